#pragma once

// The flow-level settings: name, description, params (a table of name, default JSON and
// description), defaults (retry keys with the built-in values as placeholders, timeout) and
// resources (a list and a form for the selected one: concurrency, rate, breaker, queue time).
// Each committed field change is one FlowDocument::requestFlowSettings call, so one undo command;
// input that does not parse and refusals are shown next to the field and change nothing.
//
// Threading: GUI thread. Ownership: does not own the document, which must outlive it.

#include "core/status.h"
#include "model/flow.h"

#include <QWidget>

#include <memory>
#include <vector>

class QFormLayout;
class QGroupBox;
class QListWidget;
class QTableWidget;
class QVBoxLayout;

namespace keepflow::ui {

class FlowDocument;

class FlowSettingsEditor : public QWidget {
    Q_OBJECT
public:
    explicit FlowSettingsEditor(FlowDocument *document, QWidget *parent = nullptr);
    ~FlowSettingsEditor() override;

    /// The resource the resource form edits, empty when none is selected.
    QString currentResource() const;
    void selectResource(const QString &name);
    /// Focuses the widget for a diagnostic path outside the steps ("/defaults/retry/backoff",
    /// "/resources/crm/rate/limit", "/params/date/default", "/name").
    void focusField(const QString &jsonPath);

    /// The widget editing field ("name", "params", "defaults/retry/max_attempts",
    /// "defaults/timeout", "resources", "resource/rate/limit", ...), or nullptr (tests).
    QWidget *fieldWidget(const QString &field) const;
    /// The message shown next to field, empty when none.
    QString fieldError(const QString &field) const;

    /// Adds a parameter with a unique name (one undo command).
    void addParam();
    /// Removes the parameter in the current table row (one undo command).
    void removeCurrentParam();
    /// Adds a resource with a unique name and selects it (one undo command).
    void addResource();
    /// Removes the selected resource (one undo command); steps that use it keep the name.
    void removeCurrentResource();

Q_SIGNALS:
    /// The document refused an edit; reason is also shown next to the field.
    void editRefused(const QString &reason);

private:
    struct Field;

    Field &addField(QFormLayout *form, const QString &key, const QString &label, QWidget *widget);
    Field *findField(const QString &key) const;
    void commit(Field &field);
    bool apply(const Flow &settings, const QString &text, Field *field);
    void setFieldError(Field &field, const QString &message);
    void refresh();
    void fillResourceList(const Flow &flow);

    void buildFlowGroup(QVBoxLayout *layout);
    void buildDefaultsGroup(QVBoxLayout *layout);
    void buildResourcesGroup(QVBoxLayout *layout);
    void addResourceText(QFormLayout *form, const QString &key, const QString &label,
                         Result<QJsonValue> (*parse)(const QString &), const QString &placeholder);

    FlowDocument *m_document = nullptr;
    std::vector<std::unique_ptr<Field>> m_fields;
    bool m_filling = false;
    QString m_resource; ///< the resource the form edits
    QTableWidget *m_params = nullptr;
    QListWidget *m_resources = nullptr;
    QGroupBox *m_resourceForm = nullptr;
};

} // namespace keepflow::ui
