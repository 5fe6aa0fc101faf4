#pragma once

// Where the run graph puts each step: the editor's saved positions when every step has one,
// otherwise a left-to-right layered layout by Graphviz dot. Pure function of the flow.
//
// Threading: any thread (each call uses its own Graphviz context).

#include "model/flow.h"

#include <QHash>
#include <QPointF>
#include <QString>

namespace keepflow::ui {

/// Size of a step's box in scene units; the layout leaves this much room per step.
inline constexpr qreal kNodeWidth = 200.0;
inline constexpr qreal kNodeHeight = 76.0;

/// How hard dot works on crossings and edge lengths.
enum class DotEffort {
    Auto,  ///< Full up to kFullDotMaxSteps steps, Quick above
    Full,  ///< dot's defaults: best drawing, superlinear time
    Quick, ///< newrank and tiny network-simplex limits: a bit taller, much faster
};

/// Above this many steps Auto uses Quick (figures in graphlayout.cpp).
inline constexpr int kFullDotMaxSteps = 1500;

/// Centers of the step boxes by step id, in scene units (y grows downwards).
/// Uses ui.x / ui.y (taken as box centers) when every step has both, otherwise dotLayout().
/// Upstream ids that name no step are ignored. An empty flow gives an empty hash.
QHash<QString, QPointF> layoutFlow(const Flow &flow);

/// True when every step has numeric ui.x and ui.y.
bool hasEditorPositions(const Flow &flow);

/// Graphviz dot, rankdir LR, through the C API. If Graphviz fails (no layout plugin), falls back
/// to a plain longest-path layering so that the monitor still opens.
QHash<QString, QPointF> dotLayout(const Flow &flow, DotEffort effort = DotEffort::Auto);

} // namespace keepflow::ui
