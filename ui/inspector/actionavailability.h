#pragma once

// Which operator actions apply to a step, so that buttons and menus are enabled only where the
// engine would accept them (the engine still decides; a refusal is shown with its reason).

#include "operator/operatoraction.h"
#include "stepview.h"

#include <QList>

namespace keepflow::ui {

/// The step-level actions offered for a step in view's state. isApproval: an approval step.
bool actionApplies(OperatorAction::Kind kind, const StepView &view, bool isApproval);

/// The tooltip of every action on a database opened read-only (reason: why it is).
QString readOnlyActionTip(const QString &reason);

/// Step-level actions in the order the inspector shows them.
const QList<OperatorAction::Kind> &stepActionKinds();

/// The button label of an action ("Retry", "Retry failed items", "Mark succeeded", ...).
QString actionLabel(OperatorAction::Kind kind);
/// Its keyboard shortcut as a QKeySequence string ("Ctrl+R"); empty when none.
QString actionShortcut(OperatorAction::Kind kind);

/// Actions that run steps again and so show a preview first.
bool actionRunsStepsAgain(OperatorAction::Kind kind);
/// Actions that must say why (skip, mark succeeded, resolve, reject, cancel): they settle or end
/// something by an operator's word. Retry, approve and the others take an optional reason.
bool actionNeedsReason(OperatorAction::Kind kind);
/// Actions that take an output (skip, mark succeeded, resolve "happened") or an input (set input).
bool actionTakesOutput(OperatorAction::Kind kind);

} // namespace keepflow::ui
