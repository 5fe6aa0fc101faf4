// bench_editor: the editor's document model (FlowDocument) on a 1,000-step flow.
//
//   bench_editor [--steps N] [--runs R]
//
// The flow: 20 layers of 50 steps, each waiting for the step above it, every fifth also for
// the one above and to the right (fan-in and fan-out), every tenth with a fallback value, all
// positioned. Prints one figure per line, each the median of R runs: requestStepsRemove of half
// the steps (every other one, so that most references get rewritten), its undo and redo, save
// (serialize and write), serialize alone, validate (problems()), and a drag of 100 steps made
// of 100 moves that merge into one command.
// Targets: undo of the removal and save each under 200 ms.

#include "flowdocument.h"
#include "stepdefaults.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QUndoStack>

#include <algorithm>
#include <cstdio>
#include <functional>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

constexpr int kLayerWidth = 50;

Flow makeFlow(int steps) {
    Flow flow;
    flow.name = QStringLiteral("bench-editor");
    const QStringList &kinds = knownStepKinds();
    for (int i = 0; i < steps; ++i) {
        const int layer = i / kLayerWidth;
        const int column = i % kLayerWidth;
        const QString kind = kinds.at(i % kinds.size());
        Step s = defaultStep(kind, QStringLiteral("s%1").arg(i));
        if (layer > 0) {
            s.after.append(QStringLiteral("s%1").arg(i - kLayerWidth));
            if (column % 5 == 0 && column + 1 < kLayerWidth)
                s.after.append(QStringLiteral("s%1").arg(i - kLayerWidth + 1));
        }
        if (i % 10 == 0) {
            s.fallback.kind = Fallback::Kind::Value;
            s.fallback.value = QJsonObject{{QStringLiteral("ok"), false}};
        }
        s.ui = QJsonObject{{QStringLiteral("x"), column * 180}, {QStringLiteral("y"), layer * 90}};
        flow.steps.append(s);
    }
    return flow;
}

double median(QList<double> values) {
    std::sort(values.begin(), values.end());
    return values.at(values.size() / 2);
}

double timeMs(const std::function<void()> &work) {
    QElapsedTimer timer;
    timer.start();
    work();
    return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

void print(int steps, const char *figure, double ms) {
    std::printf("%d steps | %s | %.2f ms\n", steps, figure, ms);
    std::fflush(stdout);
}

bool check(bool ok, const char *what) {
    if (!ok)
        std::fprintf(stderr, "bench_editor: %s\n", what);
    return ok;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    int steps = 1000;
    int runs = 5;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); ++i) {
        if (args.at(i) == QLatin1String("--steps"))
            steps = args.at(i + 1).toInt();
        else if (args.at(i) == QLatin1String("--runs"))
            runs = std::max(1, args.at(i + 1).toInt());
    }

    QTemporaryDir dir;
    const QString source = dir.filePath(QStringLiteral("bench.flow.json"));
    const QString target = dir.filePath(QStringLiteral("saved.flow.json"));
    if (!check(saveFlowFile(makeFlow(steps), source).isOk(), "cannot write the flow"))
        return 1;
    FlowDocument doc;
    if (!check(doc.load(source).isOk(), "cannot load the flow"))
        return 1;
    const QByteArray original = doc.serialized();

    QStringList half; // every other step
    for (int i = 0; i < steps; i += 2)
        half.append(QStringLiteral("s%1").arg(i));
    QStringList dragged; // 100 steps spread over the flow
    for (int i = 0; i < steps && dragged.size() < 100; i += std::max(1, steps / 100))
        dragged.append(QStringLiteral("s%1").arg(i));

    QList<double> remove, undo, redo, save, serialize, validate, drag, move;
    bool exact = true;
    for (int run = 0; run < runs; ++run) {
        remove.append(timeMs([&] { doc.requestStepsRemove(half); }));
        exact = exact && doc.flow().steps.size() == steps - half.size();
        undo.append(timeMs([&] { doc.undoStack()->undo(); }));
        exact = exact && doc.serialized() == original;
        redo.append(timeMs([&] { doc.undoStack()->redo(); }));
        doc.undoStack()->undo();

        save.append(timeMs([&] { doc.save(target); }));
        QByteArray text;
        serialize.append(timeMs([&] { text = doc.serialized(); }));
        qsizetype problems = 0;
        validate.append(timeMs([&] { problems = doc.problems().size(); }));
        exact = exact && problems == 0;

        const int before = doc.undoStack()->index();
        drag.append(timeMs([&] {
            for (int i = 0; i < 100; ++i)
                doc.requestStepsMove(dragged, QPointF(1.5, -0.5));
            doc.finishMove();
        }));
        move.append(drag.last() / 100);
        exact = exact && doc.undoStack()->index() == before + 1; // one command
        doc.undoStack()->undo();
        exact = exact && doc.serialized() == original;
    }
    if (!check(exact, "an undo did not restore the same bytes, or the flow has problems"))
        return 1;

    print(steps, "requestStepsRemove of half the steps", median(remove));
    print(steps, "undo of that removal", median(undo));
    print(steps, "redo of that removal", median(redo));
    print(steps, "save (serialize + write)", median(save));
    print(steps, "serialize", median(serialize));
    print(steps, "validate (problems())", median(validate));
    print(steps, "drag of 100 steps, 100 merged moves", median(drag));
    print(steps, "one move of 100 steps (merged)", median(move));
    return 0;
}
