// Reading and validating flow files: the JSON readers side by side with Qt's own parser, and
// parseFlow (read + validate) on flows of several shapes. Prints figures; not a pass/fail test.
//
//   bench_flowfile [--quick]
//
// Each figure is the median of five runs in this process. "Qt fromJson" is
// QJsonDocument::fromJson on the same bytes: the yardstick for the JSON reader, which must be
// stricter (duplicate keys, invalid UTF-8) and able to say where each value is.

#include "model/flowfile.h"
#include "model/jsonpositions.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

using namespace keepflow;

namespace {

struct Shape {
    const char *name;
    QByteArray text;
};

QByteArray flowText(const QJsonArray &steps) {
    return QJsonDocument(QJsonObject{{QStringLiteral("keepflow"), 1},
                                     {QStringLiteral("name"), QStringLiteral("bench")},
                                     {QStringLiteral("steps"), steps}})
        .toJson(QJsonDocument::Compact);
}

QString id(int i) {
    return QStringLiteral("s%1").arg(i);
}

QJsonObject noop(int i, const QJsonArray &after) {
    QJsonObject step{{QStringLiteral("id"), id(i)},
                     {QStringLiteral("kind"), QStringLiteral("noop")}};
    if (!after.isEmpty())
        step.insert(QStringLiteral("after"), after);
    return step;
}

/// Each step after the one before it.
QByteArray chain(int n) {
    QJsonArray steps;
    for (int i = 0; i < n; ++i)
        steps.append(noop(i, i == 0 ? QJsonArray() : QJsonArray{id(i - 1)}));
    return flowText(steps);
}

/// One step, then every other step after it.
QByteArray wide(int n) {
    QJsonArray steps{noop(0, {})};
    for (int i = 1; i < n; ++i)
        steps.append(noop(i, QJsonArray{id(0)}));
    return flowText(steps);
}

/// Every step after all the steps before it: n(n-1)/2 edges.
QByteArray dense(int n) {
    QJsonArray steps;
    QJsonArray after;
    for (int i = 0; i < n; ++i) {
        steps.append(noop(i, after));
        after.append(id(i));
    }
    return flowText(steps);
}

/// A chain of steps, each giving as its output the first step's output through a template (the
/// reachability check of every template reference).
QByteArray templates(int n) {
    QJsonArray steps{noop(0, {})};
    for (int i = 1; i < n; ++i) {
        QJsonObject step = noop(i, QJsonArray{id(i - 1)});
        step.insert(QStringLiteral("with"),
                    QJsonObject{{QStringLiteral("output"),
                                 QStringLiteral("{{steps.s0.output}} and {{run.id}}")}});
        steps.append(step);
    }
    return flowText(steps);
}

double medianMs(const std::function<void()> &work) {
    std::vector<double> times;
    for (int i = 0; i < 5; ++i) {
        QElapsedTimer timer;
        timer.start();
        work();
        times.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(times.begin(), times.end());
    return times[2];
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const bool quick = app.arguments().contains(QStringLiteral("--quick"));
    const int big = quick ? 2000 : 10000;
    const int denseSteps = quick ? 500 : 1500;
    const std::vector<Shape> shapes{
        {"chain", chain(big)},
        {"wide", wide(big)},
        {"dense", dense(denseSteps)},
        {"templates", templates(big)},
    };
    std::printf("%-10s %6s %9s | %10s %10s %10s | %10s %12s\n", "shape", "steps", "KiB",
                "Qt fromJson", "parseJson", "+positions", "parseFlow", "validateFlow");
    for (const Shape &shape : shapes) {
        const FlowLoad load = parseFlow(shape.text, QStringLiteral("bench"));
        if (!load.ok()) {
            std::fprintf(stderr, "%s: %s\n", shape.name, qPrintable(load.errorText()));
            return 1;
        }
        const double qt = medianMs([&] { (void)QJsonDocument::fromJson(shape.text); });
        const double bare =
            medianMs([&] { (void)parseJson(shape.text, JsonPositions::NotRecorded); });
        const double positioned = medianMs([&] { (void)parseJsonWithPositions(shape.text); });
        const double whole =
            medianMs([&] { (void)parseFlow(shape.text, QStringLiteral("bench")); });
        const double validate = medianMs([&] { (void)validateFlow(*load.flow); });
        std::printf("%-10s %6lld %9.0f | %8.1f ms %7.1f ms %7.1f ms | %7.1f ms %9.1f ms\n",
                    shape.name, static_cast<long long>(load.flow->steps.size()),
                    static_cast<double>(shape.text.size()) / 1024.0, qt, bare, positioned, whole,
                    validate);
    }
    return 0;
}
