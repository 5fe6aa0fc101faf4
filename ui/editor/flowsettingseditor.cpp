#include "flowsettingseditor.h"

#include "fieldparsing.h"
#include "flowdocument.h"
#include "formrow.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <functional>
#include <limits>

namespace keepflow::ui {

/// One edited setting: its widget, label, problem line, and how to read and write it.
struct FlowSettingsEditor::Field {
    QString key;
    QString label;
    QWidget *widget = nullptr;
    QLabel *error = nullptr;
    QFormLayout *form = nullptr;
    QWidget *cell = nullptr;       ///< the widget and the problem line under it
    QLabel *labelWidget = nullptr; ///< the visible label, buddy of widget
    bool hasError = false;
    std::function<void(const Flow &)> fill; ///< called with the widget's signals blocked
    std::function<Status(Flow &)> apply;    ///< refuses input that does not parse
};

namespace {

constexpr int kIntMax = std::numeric_limits<int>::max();

enum ParamColumn { NameColumn, DefaultColumn, DescriptionColumn };

Result<QJsonValue> parsePositive(const QString &text) {
    return parseIntegerText(text, 1, kIntMax);
}

Result<QJsonValue> parseRatio(const QString &text) {
    return parseNumberText(text, 0.0, 1.0);
}

// Sets (or, for undefined, removes) a key one or two levels deep; an emptied inner object goes.
void setPath(QJsonObject &object, const QStringList &path, const QJsonValue &value) {
    if (path.size() == 1) {
        if (value.isUndefined())
            object.remove(path.first());
        else
            object.insert(path.first(), value);
        return;
    }
    QJsonObject inner = object.value(path.first()).toObject();
    setPath(inner, path.mid(1), value);
    if (inner.isEmpty())
        object.remove(path.first());
    else
        object.insert(path.first(), inner);
}

QJsonValue valueAt(const QJsonObject &object, const QStringList &path) {
    QJsonValue v = object;
    for (const QString &key : path)
        v = v.toObject().value(key);
    return v;
}

QToolButton *makeButton(const QString &text, const QString &name) {
    auto *button = new QToolButton;
    button->setText(text);
    button->setAccessibleName(name);
    button->setToolTip(name);
    return button;
}

void setCellText(QTableWidget *table, int row, int column, const QString &text) {
    QTableWidgetItem *item = table->item(row, column);
    if (!item)
        table->setItem(row, column, new QTableWidgetItem(text));
    else if (item->text() != text)
        item->setText(text);
}

QString cellText(const QTableWidget *table, int row, int column) {
    const QTableWidgetItem *item = table->item(row, column);
    return item ? item->text() : QString();
}

QString uniqueName(const QString &base, const std::function<bool(const QString &)> &taken) {
    QString name = base;
    for (int n = 2; taken(name); ++n)
        name = QStringLiteral("%1-%2").arg(base).arg(n);
    return name;
}

} // namespace

FlowSettingsEditor::FlowSettingsEditor(FlowDocument *document, QWidget *parent)
    : QWidget(parent)
    , m_document(document) {
    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);
    buildFlowGroup(layout);
    buildDefaultsGroup(layout);
    buildResourcesGroup(layout);
    layout->addStretch();

    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    connect(m_document, &FlowDocument::changed, this, &FlowSettingsEditor::refresh);
    refresh();
}

FlowSettingsEditor::~FlowSettingsEditor() {
    // Child widgets go first, while the fields their connections refer to still exist; a focus
    // change while they go (editingFinished) must not edit the document.
    m_filling = true;
    qDeleteAll(findChildren<QWidget *>(Qt::FindDirectChildrenOnly));
}

FlowSettingsEditor::Field &FlowSettingsEditor::addField(QFormLayout *form, const QString &key,
                                                        const QString &label, QWidget *widget) {
    auto field = std::make_unique<Field>();
    field->key = key;
    field->label = label;
    field->widget = widget;
    field->form = form;
    const FormRow row = addFormRow(form, key, label, widget);
    field->error = row.error;
    field->cell = row.cell;
    field->labelWidget = row.label;
    m_fields.push_back(std::move(field));
    return *m_fields.back();
}

FlowSettingsEditor::Field *FlowSettingsEditor::findField(const QString &key) const {
    for (const auto &field : m_fields) {
        if (field->key == key)
            return field.get();
    }
    return nullptr;
}

QWidget *FlowSettingsEditor::fieldWidget(const QString &field) const {
    const Field *f = findField(field);
    return f ? f->widget : nullptr;
}

QString FlowSettingsEditor::fieldError(const QString &field) const {
    const Field *f = findField(field);
    return f && f->hasError ? f->error->text() : QString();
}

void FlowSettingsEditor::setFieldError(Field &field, const QString &message) {
    field.hasError = !message.isEmpty();
    field.error->setText(message);
    field.error->setVisible(field.hasError);
}

// ---- building -----------------------------------------------------------------------------

void FlowSettingsEditor::buildFlowGroup(QVBoxLayout *layout) {
    auto *group = new QGroupBox(tr("Flow"));
    auto *form = new QFormLayout(group);
    layout->addWidget(group);

    auto *name = new QLineEdit;
    Field &nameField = addField(form, QStringLiteral("name"), tr("Name"), name);
    nameField.fill = [name](const Flow &f) { setLineText(name, f.name); };
    nameField.apply = [name](Flow &f) {
        const QString text = name->text().trimmed();
        if (text.isEmpty())
            return Status::error(tr("A flow needs a name."));
        f.name = text;
        return Status::ok();
    };
    connect(name, &QLineEdit::editingFinished, this, [this, &nameField] { commit(nameField); });

    auto *description = new QLineEdit;
    Field &descriptionField =
        addField(form, QStringLiteral("description"), tr("Description"), description);
    descriptionField.fill = [description](const Flow &f) {
        setLineText(description, f.description);
    };
    descriptionField.apply = [description](Flow &f) {
        f.description = description->text();
        return Status::ok();
    };
    connect(description, &QLineEdit::editingFinished, this,
            [this, &descriptionField] { commit(descriptionField); });

    // Params: one row each; an empty default makes the parameter required.
    auto *paramsBox = new QWidget;
    m_params = new QTableWidget(0, 3, paramsBox);
    m_params->setHorizontalHeaderLabels({tr("Name"), tr("Default (JSON)"), tr("Description")});
    m_params->horizontalHeader()->setStretchLastSection(true);
    m_params->verticalHeader()->hide();
    m_params->setMaximumHeight(m_params->fontMetrics().lineSpacing() * 9);
    QToolButton *add = makeButton(QStringLiteral("+"), tr("Add parameter"));
    QToolButton *remove = makeButton(QStringLiteral("−"), tr("Remove parameter"));
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch();
    auto *paramsLayout = new QHBoxLayout(paramsBox);
    paramsLayout->setContentsMargins(0, 0, 0, 0);
    paramsLayout->addWidget(m_params, 1);
    paramsLayout->addLayout(buttons);
    paramsBox->setFocusProxy(m_params);
    m_params->setAccessibleName(tr("Parameters"));
    Field &paramsField = addField(form, QStringLiteral("params"), tr("Parameters"), paramsBox);
    paramsField.fill = [this](const Flow &f) {
        const QSignalBlocker blocker(m_params);
        m_params->setRowCount(int(f.params.size()));
        for (int row = 0; row < f.params.size(); ++row) {
            const ParamSpec &p = f.params.at(row);
            setCellText(m_params, row, NameColumn, p.name);
            setCellText(m_params, row, DefaultColumn, jsonText(p.defaultValue, false));
            setCellText(m_params, row, DescriptionColumn, p.description);
        }
    };
    paramsField.apply = [this](Flow &f) {
        QList<ParamSpec> params;
        for (int row = 0; row < m_params->rowCount(); ++row) {
            ParamSpec p;
            if (row < f.params.size())
                p = f.params.at(row); // keeps keys the table does not show
            p.name = cellText(m_params, row, NameColumn).trimmed();
            if (p.name.isEmpty())
                return Status::error(tr("Row %1: a parameter needs a name.").arg(row + 1));
            const auto value = parseJsonText(cellText(m_params, row, DefaultColumn));
            if (!value)
                return Status::error(
                    tr("Row %1 (%2): the default is %3").arg(row + 1).arg(p.name, value.error()));
            p.defaultValue = *value;
            p.description = cellText(m_params, row, DescriptionColumn);
            params.append(p);
        }
        f.params = params;
        return Status::ok();
    };
    connect(m_params, &QTableWidget::itemChanged, this,
            [this, &paramsField] { commit(paramsField); });
    connect(add, &QToolButton::clicked, this, &FlowSettingsEditor::addParam);
    connect(remove, &QToolButton::clicked, this, &FlowSettingsEditor::removeCurrentParam);
}

void FlowSettingsEditor::buildDefaultsGroup(QVBoxLayout *layout) {
    auto *group = new QGroupBox(tr("Defaults for every step"));
    auto *form = new QFormLayout(group);
    layout->addWidget(group);
    for (const RetryField &retryField : retryFields()) {
        const QString key = retryField.key;
        auto *edit = new QLineEdit;
        // Built-in values: what applies when neither the flow nor the step sets the key.
        edit->setPlaceholderText(retryPlaceholder(RetryPolicy(), key));
        Field &field =
            addField(form, QStringLiteral("defaults/retry/") + key, retryField.label, edit);
        field.fill = [edit, key](const Flow &f) {
            const QJsonValue v = f.defaultRetry ? f.defaultRetry->value(key) : QJsonValue();
            setLineText(edit, v.isArray() ? listText(v.toArray()) : valueText(v));
        };
        field.apply = [edit, key](Flow &f) {
            const auto value = parseRetryText(key, edit->text());
            if (!value)
                return value.status();
            QJsonObject retry = f.defaultRetry.value_or(QJsonObject());
            setPath(retry, {key}, *value);
            f.defaultRetry = retry.isEmpty() ? std::nullopt : std::optional<QJsonObject>(retry);
            return Status::ok();
        };
        connect(edit, &QLineEdit::editingFinished, this, [this, &field] { commit(field); });
    }

    auto *timeout = new QLineEdit;
    timeout->setPlaceholderText(tr("none (default)"));
    Field &timeoutField =
        addField(form, QStringLiteral("defaults/timeout"), tr("Timeout"), timeout);
    timeoutField.fill = [timeout](const Flow &f) {
        setLineText(timeout, durationText(f.defaultTimeout));
    };
    timeoutField.apply = [timeout](Flow &f) {
        const auto value = parseDurationText(timeout->text());
        if (!value)
            return value.status();
        f.defaultTimeout = value->isUndefined()
                               ? std::nullopt
                               : std::optional<Duration>(durationFromText(value->toString()));
        return Status::ok();
    };
    connect(timeout, &QLineEdit::editingFinished, this,
            [this, &timeoutField] { commit(timeoutField); });
}

void FlowSettingsEditor::addResourceText(QFormLayout *form, const QString &key,
                                         const QString &label,
                                         Result<QJsonValue> (*parse)(const QString &),
                                         const QString &placeholder) {
    auto *edit = new QLineEdit;
    edit->setPlaceholderText(placeholder);
    Field &field = addField(form, QStringLiteral("resource/") + key, label, edit);
    const QStringList path = key.split(QLatin1Char('/'));
    field.fill = [this, edit, path](const Flow &f) {
        const ResourceSpec *r = f.resource(m_resource);
        setLineText(edit, r ? valueText(valueAt(r->definition, path)) : QString());
    };
    field.apply = [this, edit, path, parse](Flow &f) {
        const auto value = parse(edit->text());
        if (!value)
            return value.status();
        for (ResourceSpec &r : f.resources) {
            if (r.name == m_resource) {
                setPath(r.definition, path, *value);
                return Status::ok();
            }
        }
        return Status::error(tr("Select a resource first."));
    };
    connect(edit, &QLineEdit::editingFinished, this, [this, &field] { commit(field); });
}

void FlowSettingsEditor::buildResourcesGroup(QVBoxLayout *layout) {
    auto *group = new QGroupBox(tr("Resources"));
    auto *form = new QFormLayout(group);
    layout->addWidget(group);

    auto *listBox = new QWidget;
    m_resources = new QListWidget(listBox);
    m_resources->setMaximumHeight(m_resources->fontMetrics().lineSpacing() * 7);
    m_resources->setAccessibleName(tr("Resources"));
    QToolButton *add = makeButton(QStringLiteral("+"), tr("Add resource"));
    QToolButton *remove = makeButton(QStringLiteral("−"), tr("Remove resource"));
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch();
    auto *listLayout = new QHBoxLayout(listBox);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->addWidget(m_resources, 1);
    listLayout->addLayout(buttons);
    listBox->setFocusProxy(m_resources);
    Field &listField = addField(form, QStringLiteral("resources"), tr("Resources"), listBox);
    listField.fill = [this](const Flow &f) { fillResourceList(f); };
    // Renaming in place: the edited item names the resource it was created for.
    listField.apply = [this](Flow &f) {
        for (int row = 0; row < m_resources->count(); ++row) {
            QListWidgetItem *item = m_resources->item(row);
            const QString was = item->data(Qt::UserRole).toString();
            const QString now = item->text().trimmed();
            if (was == now)
                continue;
            if (now.isEmpty())
                return Status::error(tr("A resource needs a name."));
            if (f.resource(now))
                return Status::error(tr("There is already a resource named \"%1\".").arg(now));
            for (ResourceSpec &r : f.resources) {
                if (r.name == was)
                    r.name = now;
            }
            if (m_resource == was)
                m_resource = now;
        }
        return Status::ok();
    };
    connect(m_resources, &QListWidget::itemChanged, this,
            [this, &listField] { commit(listField); });
    connect(m_resources, &QListWidget::currentRowChanged, this, [this](int row) {
        if (m_filling)
            return;
        selectResource(row < 0 ? QString() : m_resources->item(row)->data(Qt::UserRole).toString());
    });
    connect(add, &QToolButton::clicked, this, &FlowSettingsEditor::addResource);
    connect(remove, &QToolButton::clicked, this, &FlowSettingsEditor::removeCurrentResource);

    m_resourceForm = new QGroupBox(tr("Selected resource"));
    auto *resourceForm = new QFormLayout(m_resourceForm);
    form->addRow(m_resourceForm);
    addResourceText(resourceForm, QStringLiteral("concurrency"), tr("Concurrency"), parsePositive,
                    tr("no limit (default)"));
    addResourceText(resourceForm, QStringLiteral("rate/limit"), tr("Rate limit"), parsePositive,
                    tr("calls, e.g. 10"));
    addResourceText(resourceForm, QStringLiteral("rate/per"), tr("Rate period"), parseDurationText,
                    tr("e.g. 1s"));
    addResourceText(resourceForm, QStringLiteral("breaker/failure_rate"),
                    tr("Breaker failure rate"), parseRatio, tr("e.g. 0.5 (no breaker)"));
    addResourceText(resourceForm, QStringLiteral("breaker/window"), tr("Breaker window"),
                    parsePositive, tr("calls, e.g. 20"));
    addResourceText(resourceForm, QStringLiteral("breaker/min_calls"), tr("Breaker min calls"),
                    parsePositive, tr("e.g. 10"));
    addResourceText(resourceForm, QStringLiteral("breaker/open_for"), tr("Breaker open for"),
                    parseDurationText, tr("e.g. 30s"));
    addResourceText(resourceForm, QStringLiteral("breaker/half_open_calls"),
                    tr("Breaker half-open calls"), parsePositive, tr("e.g. 2"));
    addResourceText(resourceForm, QStringLiteral("max_queue_time"), tr("Max queue time"),
                    parseDurationText, tr("no limit (default)"));
}

// ---- showing and committing -----------------------------------------------------------------

void FlowSettingsEditor::fillResourceList(const Flow &flow) {
    const QSignalBlocker blocker(m_resources);
    if (m_resources->count() != flow.resources.size()) {
        m_resources->clear();
        for (qsizetype i = 0; i < flow.resources.size(); ++i)
            m_resources->addItem(QString());
    }
    int current = -1;
    for (int row = 0; row < flow.resources.size(); ++row) {
        QListWidgetItem *item = m_resources->item(row);
        const QString name = flow.resources.at(row).name;
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        if (item->text() != name)
            item->setText(name);
        item->setData(Qt::UserRole, name);
        if (name == m_resource)
            current = row;
    }
    if (current < 0 && !flow.resources.isEmpty()) {
        current = 0;
        m_resource = flow.resources.first().name;
    } else if (current < 0) {
        m_resource.clear();
    }
    m_resources->setCurrentRow(current);
    m_resourceForm->setEnabled(current >= 0);
    m_resourceForm->setTitle(current >= 0 ? tr("Resource %1").arg(m_resource)
                                          : tr("Selected resource"));
}

void FlowSettingsEditor::refresh() {
    const Flow &flow = m_document->flow();
    m_filling = true;
    // The list first: it decides which resource the resource form shows.
    Field *list = findField(QStringLiteral("resources"));
    list->fill(flow);
    for (const auto &field : m_fields) {
        if (field->hasError || field.get() == list)
            continue; // a field showing a problem keeps the user's text until it is fixed
        const QSignalBlocker blocker(field->widget);
        field->fill(flow);
    }
    m_filling = false;
}

QString FlowSettingsEditor::currentResource() const {
    return m_resource;
}

void FlowSettingsEditor::selectResource(const QString &name) {
    m_resource = name;
    // Another resource: problems shown for the previous one's fields no longer apply.
    for (const auto &field : m_fields) {
        if (field->key.startsWith(QLatin1String("resource/")))
            setFieldError(*field, {});
    }
    refresh();
}

bool FlowSettingsEditor::apply(const Flow &settings, const QString &text, Field *field) {
    const Status done = m_document->requestFlowSettings(settings, text);
    if (done)
        return true;
    if (field)
        setFieldError(*field, done.message());
    Q_EMIT editRefused(done.message());
    return false;
}

void FlowSettingsEditor::commit(Field &field) {
    if (m_filling)
        return;
    Flow settings = m_document->flow();
    const Status parsed = field.apply(settings);
    if (!parsed) {
        setFieldError(field, parsed.message());
        return;
    }
    setFieldError(field, {});
    // An unchanged value makes no undo command: the document compares the settings.
    apply(settings, tr("Edit %1 of the flow").arg(field.label.toLower()), &field);
}

void FlowSettingsEditor::addParam() {
    Flow settings = m_document->flow();
    ParamSpec p;
    p.name = uniqueName(QStringLiteral("param"),
                        [&settings](const QString &n) { return settings.param(n) != nullptr; });
    settings.params.append(p);
    if (apply(settings, tr("Add parameter %1").arg(p.name), findField(QStringLiteral("params"))))
        m_params->setCurrentCell(int(settings.params.size()) - 1, NameColumn);
}

void FlowSettingsEditor::removeCurrentParam() {
    const int row = m_params->currentRow();
    Flow settings = m_document->flow();
    if (row < 0 || row >= settings.params.size())
        return;
    const QString name = settings.params.at(row).name;
    settings.params.removeAt(row);
    apply(settings, tr("Remove parameter %1").arg(name), findField(QStringLiteral("params")));
}

void FlowSettingsEditor::addResource() {
    Flow settings = m_document->flow();
    ResourceSpec r;
    r.name = uniqueName(QStringLiteral("resource"),
                        [&settings](const QString &n) { return settings.resource(n) != nullptr; });
    r.definition.insert(QStringLiteral("concurrency"), 1);
    settings.resources.append(r);
    const QString previous = m_resource;
    m_resource = r.name; // the refresh that follows selects it
    if (!apply(settings, tr("Add resource %1").arg(r.name), findField(QStringLiteral("resources"))))
        m_resource = previous;
}

void FlowSettingsEditor::removeCurrentResource() {
    Flow settings = m_document->flow();
    for (qsizetype i = 0; i < settings.resources.size(); ++i) {
        if (settings.resources.at(i).name == m_resource) {
            settings.resources.removeAt(i);
            apply(settings, tr("Remove resource %1").arg(m_resource),
                  findField(QStringLiteral("resources")));
            return;
        }
    }
}

void FlowSettingsEditor::focusField(const QString &jsonPath) {
    const QStringList parts = jsonPath.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (parts.isEmpty())
        return;
    Field *field = nullptr;
    const QString root = parts.first();
    if (root == QLatin1String("name") || root == QLatin1String("description")) {
        field = findField(root);
    } else if (root == QLatin1String("params")) {
        field = findField(QStringLiteral("params"));
        const ParamSpec *p = parts.size() > 1 ? m_document->flow().param(parts.at(1)) : nullptr;
        if (p) {
            const int column = parts.size() > 2 && parts.at(2) == QLatin1String("default")
                                   ? DefaultColumn
                                   : NameColumn;
            const QList<ParamSpec> &params = m_document->flow().params;
            for (int row = 0; row < params.size(); ++row) {
                if (params.at(row).name == p->name)
                    m_params->setCurrentCell(row, column);
            }
        }
    } else if (root == QLatin1String("defaults")) {
        field = findField(parts.join(QLatin1Char('/')));
        if (!field)
            field = findField(QStringLiteral("defaults/retry/max_attempts"));
    } else if (root == QLatin1String("resources")) {
        field = findField(QStringLiteral("resources"));
        if (parts.size() > 1 && m_document->flow().resource(parts.at(1))) {
            selectResource(parts.at(1));
            if (parts.size() > 2) {
                const QString rest = parts.mid(2).join(QLatin1Char('/'));
                for (const auto &f : m_fields) {
                    if (f->key == QLatin1String("resource/") + rest ||
                        f->key.startsWith(QLatin1String("resource/") + rest + QLatin1Char('/'))) {
                        field = f.get();
                        break;
                    }
                }
            }
        }
    }
    if (field)
        field->widget->setFocus(Qt::OtherFocusReason);
}

} // namespace keepflow::ui
