#include "statestyle.h"

#include <QHash>
#include <QPainter>
#include <QPalette>
#include <QPixmap>
#include <QSvgRenderer>

#include <array>

namespace keepflow::ui {

namespace {

struct StepStateStyle {
    const char *color;
    const char *label;
};

// Indexed by StepState. Hues are spread so that neighbours in meaning (failed, uncertain,
// blocked) differ in lightness too; the glyph carries the meaning for color-blind users.
constexpr std::array<StepStateStyle, kStepStateCount> kStepStyles{{
    {"#8d8d8d", "Pending"},
    {"#5c6bc0", "Queued"},
    {"#00897b", "Scheduled"},
    {"#1e88e5", "Running"},
    {"#ef6c00", "Retrying"},
    {"#2e7d32", "Succeeded"},
    {"#689f38", "Succeeded via fallback"},
    {"#f9a825", "Partially succeeded"},
    {"#c62828", "Failed"},
    {"#8e24aa", "Uncertain"},
    {"#d81b60", "Waiting for operator"},
    {"#6d4c41", "Paused"},
    {"#9e9e9e", "Skipped"},
    {"#616161", "Blocked"},
    {"#37474f", "Cancelled"},
}};

int index(StepState state) {
    return static_cast<int>(state);
}

QPixmap renderGlyph(StepState state, int size) {
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QSvgRenderer renderer(QStringLiteral(":/icons/states/%1.svg").arg(stateName(state)));
    QPainter painter(&pixmap);
    renderer.render(&painter);
    return pixmap;
}

QPixmap renderIcon(StepState state, int size) {
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(stateColor(state));
    painter.drawEllipse(QRectF(0.5, 0.5, size - 1.0, size - 1.0));
    painter.drawPixmap(0, 0, stateGlyph(state, size));
    return pixmap;
}

} // namespace

bool isDarkPalette(const QPalette &palette) {
    return palette.color(QPalette::Window).lightness() <
           palette.color(QPalette::WindowText).lightness();
}

QColor stateColor(StepState state) {
    return QColor(QLatin1String(kStepStyles[index(state)].color));
}

QColor stateColor(RunState state) {
    return stateColor(iconStateFor(state));
}

QColor outcomeColor(std::optional<AttemptOutcome> outcome) {
    if (!outcome)
        return stateColor(StepState::Running);
    switch (*outcome) {
    case AttemptOutcome::Succeeded:
        return stateColor(StepState::Succeeded);
    case AttemptOutcome::FailedTransient:
        return stateColor(StepState::Retrying);
    case AttemptOutcome::FailedPermanent:
        return stateColor(StepState::Failed);
    case AttemptOutcome::TimedOut:
        return QColor(QStringLiteral("#ad1457"));
    case AttemptOutcome::Crashed:
        return stateColor(StepState::Cancelled);
    case AttemptOutcome::Uncertain:
        return stateColor(StepState::Uncertain);
    }
    return stateColor(StepState::Pending);
}

const QPixmap &stateGlyph(StepState state, int size) {
    static QHash<int, QPixmap> cache;
    const int key = index(state) * 1000 + size;
    auto found = cache.find(key);
    if (found == cache.end())
        found = cache.insert(key, renderGlyph(state, size));
    return *found;
}

QIcon stateIcon(StepState state) {
    static QHash<int, QIcon> cache;
    auto found = cache.find(index(state));
    if (found == cache.end()) {
        QIcon icon;
        for (int size : {16, 24, 32, 48})
            icon.addPixmap(renderIcon(state, size));
        found = cache.insert(index(state), icon);
    }
    return *found;
}

QIcon stateIcon(RunState state) {
    return stateIcon(iconStateFor(state));
}

QString stateLabel(StepState state) {
    return QString::fromLatin1(kStepStyles[index(state)].label);
}

QString stateLabel(RunState state) {
    switch (state) {
    case RunState::Running:
        return QStringLiteral("Running");
    case RunState::Paused:
        return QStringLiteral("Paused");
    case RunState::WaitingForOperator:
        return QStringLiteral("Waiting for operator");
    case RunState::Succeeded:
        return QStringLiteral("Succeeded");
    case RunState::CompletedWithFailures:
        return QStringLiteral("Completed with failures");
    case RunState::Failed:
        return QStringLiteral("Failed");
    case RunState::Cancelled:
        return QStringLiteral("Cancelled");
    }
    return {};
}

QString outcomeLabel(AttemptOutcome outcome) {
    switch (outcome) {
    case AttemptOutcome::Succeeded:
        return QStringLiteral("Succeeded");
    case AttemptOutcome::FailedTransient:
        return QStringLiteral("Failed (transient)");
    case AttemptOutcome::FailedPermanent:
        return QStringLiteral("Failed (permanent)");
    case AttemptOutcome::TimedOut:
        return QStringLiteral("Timed out");
    case AttemptOutcome::Crashed:
        return QStringLiteral("Crashed");
    case AttemptOutcome::Uncertain:
        return QStringLiteral("Uncertain");
    }
    return {};
}

StepState iconStateFor(RunState state) {
    switch (state) {
    case RunState::Running:
        return StepState::Running;
    case RunState::Paused:
        return StepState::Paused;
    case RunState::WaitingForOperator:
        return StepState::WaitingForOperator;
    case RunState::Succeeded:
        return StepState::Succeeded;
    case RunState::CompletedWithFailures:
        return StepState::PartiallySucceeded;
    case RunState::Failed:
        return StepState::Failed;
    case RunState::Cancelled:
        return StepState::Cancelled;
    }
    return StepState::Pending;
}

QColor rootCauseColor() {
    // Amber: apart from every state's fill (it outlines failed red and uncertain purple alike)
    // and from the red dashes of a validation problem.
    return QColor(0xff, 0x8f, 0x00);
}

void paintRootCauseBadge(QPainter *painter, const QPointF &center, qreal radius) {
    // A target: the marker reads by its shape, not by its color alone.
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(Qt::white, radius * 0.18));
    painter->setBrush(rootCauseColor());
    painter->drawEllipse(center, radius, radius);
    painter->setPen(QPen(Qt::white, radius * 0.16));
    painter->setBrush(Qt::NoBrush);
    painter->drawEllipse(center, radius * 0.55, radius * 0.55);
    painter->setPen(Qt::NoPen);
    painter->setBrush(Qt::white);
    painter->drawEllipse(center, radius * 0.2, radius * 0.2);
}

QIcon rootCauseIcon() {
    static const QIcon icon = [] {
        QIcon built;
        for (int size : {16, 24, 32, 48}) {
            QPixmap pixmap(size, size);
            pixmap.fill(Qt::transparent);
            QPainter painter(&pixmap);
            paintRootCauseBadge(&painter, QPointF(size / 2.0, size / 2.0), size / 2.0 - 1.0);
            painter.end();
            built.addPixmap(pixmap);
        }
        return built;
    }();
    return icon;
}

QString rootCauseLabel() {
    return QStringLiteral("Root cause: other steps wait on it");
}

const QList<StepState> &allStepStates() {
    static const QList<StepState> states = [] {
        QList<StepState> all;
        for (int i = 0; i < kStepStateCount; ++i)
            all.append(static_cast<StepState>(i));
        return all;
    }();
    return states;
}

} // namespace keepflow::ui
