#pragma once

// "Change policy…" of a step on a run under way: the flow editor's own property editor
// (PropertyEditor, its policy sections) on a copy of the step prefilled with its effective
// policy, the engine's preview of what the edited values mean for the step now, a reason, and
// Apply. Confirming never acts by itself: the caller does, on confirmed(), and may refuse() to
// keep the dialog open.

#include "core/status.h"
#include "model/flow.h"
#include "operator/policychange.h"

#include <QDialog>
#include <QJsonObject>

#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;

namespace keepflow::ui {

class FlowDocument;
class PropertyEditor;

class PolicyDialog : public QDialog {
    Q_OBJECT
public:
    /// The engine's preview of a change (OperatorApi::previewPolicy through the Monitor).
    using Preview = std::function<Result<PolicyPreview>(const QJsonObject &change)>;

    /// flow: the run's flow version; storedChange: the step row's policy_override (undefined
    /// when none).
    PolicyDialog(const Flow &flow, const QString &runId, const QString &stepId,
                 const QJsonValue &storedChange, Preview preview, QWidget *parent = nullptr);
    ~PolicyDialog() override;

    /// The keys whose edited value differs from the step's policy now (flow file keys).
    QJsonObject change() const { return m_change; }
    QString reason() const;
    const QString &stepId() const { return m_stepId; }

    PropertyEditor *editor() const { return m_editor; }
    /// The preview in words, or why the values cannot apply.
    QLabel *previewLabel() const { return m_preview; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QPushButton *applyButton() const { return m_apply; }
    /// From a receiver of confirmed(): it was not applied; the dialog stays open and says why.
    void refuse(const QString &why);

Q_SIGNALS:
    /// Apply was pressed with a change the engine's preview accepts.
    void confirmed();

private:
    void updatePreview();

    QString m_stepId;
    StepPolicy m_current; ///< the step's effective policy when the dialog opened
    Preview m_previewOf;
    FlowDocument *m_document = nullptr;
    PropertyEditor *m_editor = nullptr;
    QLabel *m_preview = nullptr;
    QLineEdit *m_reason = nullptr;
    QPushButton *m_apply = nullptr;
    QJsonObject m_change;
    bool m_refused = false;
};

} // namespace keepflow::ui
