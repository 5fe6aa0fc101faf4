#pragma once

// The editor's property editor: every field of the selected step in labeled form groups (step,
// action `with` for its kind, retry, timing, reliability, foreach). Each committed field change
// builds the new Step and calls FlowDocument::requestStepReplace once, so one field change is one
// undo command; input that does not parse (bad JSON, bad duration) and refusals from the document
// are shown next to the field and change nothing. Fields left empty keep their key absent and show
// the effective default as placeholder text.
//
// Threading: GUI thread. Ownership: does not own the document, which must outlive it.

#include "core/status.h"
#include "model/flow.h"

#include <QHash>
#include <QWidget>

#include <memory>
#include <vector>

class QFormLayout;
class QLabel;
class QScrollArea;
class QStackedWidget;
class QVBoxLayout;

namespace keepflow::ui {

class FlowDocument;

class PropertyEditor : public QWidget {
    Q_OBJECT
public:
    /// Which groups it shows: every field (the flow editor), or only what a live policy change
    /// may change on a run (retry without jitter, timeout, deadline: the inspector's dialog).
    enum class Sections { All, Policy };
    explicit PropertyEditor(FlowDocument *document, QWidget *parent = nullptr,
                            Sections sections = Sections::All);
    ~PropertyEditor() override;

    /// Shows the step with id; an empty (or unknown) id shows "nothing selected".
    void showStep(const QString &id);
    /// The id of the step shown (follows renames), empty when none.
    const QString &stepId() const { return m_stepId; }
    /// Shows the step a diagnostic path points into ("/steps/2/retry/max_attempts") and focuses
    /// the widget that edits it; keys without a widget of their own focus the nearest one (the
    /// raw `with` JSON for unknown `with` keys, the id for unknown step keys).
    void focusField(const QString &jsonPath);

    /// The widget editing field (a path inside the step: "timeout", "retry/max_attempts",
    /// "with/url") for the shown step's kind, or nullptr. For tests and focus handling.
    QWidget *fieldWidget(const QString &field) const;
    /// The message shown next to field, empty when none.
    QString fieldError(const QString &field) const;

Q_SIGNALS:
    /// The document refused an edit; reason is also shown next to the field.
    void editRefused(const QString &reason);

private:
    struct Field;

    Field &addField(QFormLayout *form, const QString &key, const QString &label, QWidget *widget,
                    const QString &kind = {});
    Field *findField(const QString &key) const;
    Field *fieldForPath(const QString &rest) const;
    void commit(Field &field);
    void setFieldError(Field &field, const QString &message);
    void refresh();
    void fill(const Step &step, bool sameStep);
    void updateRows(const Step &step);

    void buildStepGroup(QVBoxLayout *layout);
    void buildWithGroup(QVBoxLayout *layout);
    void buildRetryGroup(QVBoxLayout *layout, bool withJitter);
    void buildTimingGroup(QVBoxLayout *layout, bool policyOnly);
    void buildReliabilityGroup(QVBoxLayout *layout);
    void buildForeachGroup(QVBoxLayout *layout);
    void addWithText(QFormLayout *form, const QString &kind, const QString &key,
                     const QString &label, Result<QJsonValue> (*parse)(const QString &),
                     const QString &placeholder = {});
    void addWithJson(QFormLayout *form, const QString &kind, const QString &key,
                     const QString &label);
    void addWithChoice(QFormLayout *form, const QString &kind, const QString &key,
                       const QString &label, const QStringList &choices, const QString &fallback);

    FlowDocument *m_document = nullptr;
    QString m_stepId;
    qsizetype m_stepIndex = -1;
    qsizetype m_stepCount = 0;
    QString m_kind;         ///< kind of the shown step: selects the `with` rows
    QStringList m_otherIds; ///< ids in the after list and fallback step combo, cached
    bool m_filling = false;
    std::vector<std::unique_ptr<Field>> m_fields;
    QVBoxLayout *m_withLayout = nullptr;   ///< the Action group: one page per kind, then raw
    QHash<QString, QWidget *> m_kindPages; ///< kind -> its page of `with` fields
    QStackedWidget *m_stack = nullptr;
    QScrollArea *m_scroll = nullptr;
    QLabel *m_title = nullptr;
};

} // namespace keepflow::ui
