#pragma once

// State colors, icons and labels, defined once and used by the graph, the lists, the inspector
// and the legend alike. Every state has a distinct glyph as well as a color, so that state is
// never shown by color alone. Colors adapt to light and dark palettes.
//
// Threading: GUI thread (icons are cached pixmaps).

#include "core/states.h"

#include <QColor>
#include <QIcon>
#include <QString>

class QPainter;
class QPalette;
class QPointF;

namespace keepflow::ui {

/// True when the palette is dark (light text on a dark window), as the desktop chose it.
bool isDarkPalette(const QPalette &palette);

/// Fill color of a step in this state; readable under white text.
QColor stateColor(StepState state);
QColor stateColor(RunState state);
/// Color of an attempt bar by outcome (timeline); a running attempt has no outcome yet.
QColor outcomeColor(std::optional<AttemptOutcome> outcome);

/// Icon (colored disc with a white glyph) for the state.
QIcon stateIcon(StepState state);
QIcon stateIcon(RunState state);
/// The glyph alone, white on transparent, for painting on a colored background.
const QPixmap &stateGlyph(StepState state, int size);

/// "Partially succeeded", "Waiting for operator": a label for people.
QString stateLabel(StepState state);
QString stateLabel(RunState state);
QString outcomeLabel(AttemptOutcome outcome);

/// The step state a run state is drawn with (icon shared with the steps).
StepState iconStateFor(RunState state);

/// The root-cause marker (a step the others wait on, see api/rootcause.h): its outline color,
/// its icon (the marker's badge: a target on that color) and its label for people.
QColor rootCauseColor();
QIcon rootCauseIcon();
QString rootCauseLabel();
/// Paints the marker's badge (a white target on rootCauseColor()) centered on center.
void paintRootCauseBadge(QPainter *painter, const QPointF &center, qreal radius);

/// Every step state, in the order of the legend.
const QList<StepState> &allStepStates();

} // namespace keepflow::ui
