#include "graphlayout.h"

#include <QByteArray>
#include <QJsonValue>
#include <QList>

#include <gvc.h>

#include <algorithm>

// Measured with bench_graph (Graphviz 2.42, 2 shared cores, flows of parallel chains with
// fan-out/fan-in; offscreen / xvfb runs):
//   1,000 steps: Full 100-140 ms, Quick 11-21 ms
//   5,000 steps: Full 3,800-5,350 ms, Quick 120-160 ms
// That is with splines off (EdgeItem draws the edges) and fixed-size unlabeled boxes (no font
// metrics). Cutting mclimit/nslimit/searchsize alone leaves 5,000 steps above 1 s; newrank with
// nslimit 0.01 is what brings it down, at the price of a somewhat taller drawing. Full is kept up
// to kFullDotMaxSteps because it packs tighter and already meets the 1 s first paint there.

namespace keepflow::ui {

namespace {

constexpr double kPointsPerInch = 72.0; // dot works in inches and reports points

// ND_coord without its C-style casts: a laid out node's data record is an Agnodeinfo_t.
pointf nodeCoord(Agnode_t *node) {
    auto *object = reinterpret_cast<Agobj_t *>(node);
    return reinterpret_cast<Agnodeinfo_t *>(object->data)->coord;
}

// cgraph takes char* but copies names and values; it never writes through them.
void setDefault(Agraph_t *graph, int kind, const char *name, const QByteArray &value) {
    agattr(graph, kind, const_cast<char *>(name), const_cast<char *>(value.constData()));
}

QList<QPair<int, int>> edgeIndexes(const Flow &flow, const QHash<QString, int> &indexOf) {
    QList<QPair<int, int>> edges;
    for (int to = 0; to < flow.steps.size(); ++to) {
        for (const QString &upstream : flow.steps[to].after) {
            const auto from = indexOf.constFind(upstream);
            if (from != indexOf.cend())
                edges.append({*from, to});
        }
    }
    return edges;
}

// Longest-path layering: only used when Graphviz cannot lay out at all.
QHash<QString, QPointF> layeredFallback(const Flow &flow) {
    QHash<QString, int> indexOf;
    for (int i = 0; i < flow.steps.size(); ++i)
        indexOf.insert(flow.steps[i].id, i);
    QList<int> rank(flow.steps.size(), 0);
    // Bellman-Ford style relaxation, bounded so that a cycle cannot loop forever.
    const auto edges = edgeIndexes(flow, indexOf);
    for (int pass = 0; pass < flow.steps.size(); ++pass) {
        bool changed = false;
        for (const auto &[from, to] : edges) {
            if (rank[to] < rank[from] + 1 && rank[from] + 1 < flow.steps.size()) {
                rank[to] = rank[from] + 1;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    QHash<int, int> used;
    QHash<QString, QPointF> positions;
    for (int i = 0; i < flow.steps.size(); ++i) {
        const int row = used[rank[i]]++;
        positions.insert(flow.steps[i].id,
                         QPointF(rank[i] * kNodeWidth * 1.4, row * kNodeHeight * 1.4));
    }
    return positions;
}

} // namespace

bool hasEditorPositions(const Flow &flow) {
    return std::all_of(flow.steps.cbegin(), flow.steps.cend(), [](const Step &step) {
        return step.ui && step.ui->value(QLatin1String("x")).isDouble() &&
               step.ui->value(QLatin1String("y")).isDouble();
    });
}

QHash<QString, QPointF> layoutFlow(const Flow &flow) {
    if (flow.steps.isEmpty())
        return {};
    if (!hasEditorPositions(flow))
        return dotLayout(flow);
    QHash<QString, QPointF> positions;
    for (const Step &step : flow.steps) {
        positions.insert(step.id, QPointF(step.ui->value(QLatin1String("x")).toDouble(),
                                          step.ui->value(QLatin1String("y")).toDouble()));
    }
    return positions;
}

QHash<QString, QPointF> dotLayout(const Flow &flow, DotEffort effort) {
    if (flow.steps.isEmpty())
        return {};
    if (effort == DotEffort::Auto)
        effort = flow.steps.size() > kFullDotMaxSteps ? DotEffort::Quick : DotEffort::Full;

    GVC_t *context = gvContext();
    char graphName[] = "flow";
    Agraph_t *graph = agopen(graphName, Agdirected, nullptr);
    setDefault(graph, AGRAPH, "rankdir", "LR");
    setDefault(graph, AGRAPH, "splines", ""); // edges are drawn by EdgeItem: skip routing
    setDefault(graph, AGRAPH, "ranksep", "0.6");
    setDefault(graph, AGRAPH, "nodesep", "0.3");
    if (effort == DotEffort::Quick) {
        setDefault(graph, AGRAPH, "newrank", "true");
        setDefault(graph, AGRAPH, "nslimit", "0.01");
        setDefault(graph, AGRAPH, "nslimit1", "0.01");
    }
    setDefault(graph, AGNODE, "shape", "box");
    setDefault(graph, AGNODE, "fixedsize", "true");
    setDefault(graph, AGNODE, "label", ""); // no text: dot would measure fonts
    setDefault(graph, AGNODE, "width", QByteArray::number(kNodeWidth / kPointsPerInch));
    setDefault(graph, AGNODE, "height", QByteArray::number(kNodeHeight / kPointsPerInch));

    QHash<QString, int> indexOf;
    QList<Agnode_t *> nodes;
    nodes.reserve(flow.steps.size());
    for (int i = 0; i < flow.steps.size(); ++i) {
        QByteArray name = flow.steps[i].id.toUtf8();
        indexOf.insert(flow.steps[i].id, i);
        nodes.append(agnode(graph, name.data(), 1));
    }
    for (const auto &[from, to] : edgeIndexes(flow, indexOf))
        agedge(graph, nodes[from], nodes[to], nullptr, 1);

    QHash<QString, QPointF> positions;
    if (gvLayout(context, graph, "dot") == 0) {
        // dot's y axis points up; the scene's points down.
        positions.reserve(flow.steps.size());
        for (int i = 0; i < flow.steps.size(); ++i) {
            const pointf coord = nodeCoord(nodes[i]);
            positions.insert(flow.steps[i].id, QPointF(coord.x, -coord.y));
        }
        gvFreeLayout(context, graph);
    }
    agclose(graph);
    gvFreeContext(context);
    return positions.isEmpty() ? layeredFallback(flow) : positions;
}

} // namespace keepflow::ui
