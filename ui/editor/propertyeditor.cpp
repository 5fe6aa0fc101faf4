#include "propertyeditor.h"

#include "argvlistedit.h"
#include "fieldparsing.h"
#include "flowdocument.h"
#include "formrow.h"
#include "jsonfieldedit.h"
#include "keyvaluetableedit.h"
#include "model/flowvalidation.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QFormLayout>
#include <QGroupBox>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <functional>
#include <limits>

namespace keepflow::ui {

/// One edited key of the step: its widget, the label next to it, the problem line under it, and
/// how to read the step into the widget and the widget into a step.
struct PropertyEditor::Field {
    QString key;   ///< path inside the step: "timeout", "retry/max_attempts", "with/url"
    QString label; ///< visible label, also the widget's accessible name
    QString kind;  ///< step kind whose `with` this edits; empty for fields of every step
    QWidget *widget = nullptr;
    QLabel *error = nullptr;
    QFormLayout *form = nullptr;
    QWidget *cell = nullptr;       ///< the widget and the problem line under it
    QLabel *labelWidget = nullptr; ///< the visible label, buddy of widget
    bool hasError = false;
    std::function<void(const Step &)> fill; ///< called with the widget's signals blocked
    std::function<Status(Step &)> apply;    ///< refuses input that does not parse
};

namespace {

constexpr int kIntMax = std::numeric_limits<int>::max();

// A shell step's "output" is a format name; noop and fault take any JSON there.
bool outputMeansFormat(const QString &kind) {
    return kind == QLatin1String("shell");
}

// Step keys compared as the file would write them, so that a commit that changes nothing is no
// undo command.
bool sameStep(const Step &a, const Step &b) {
    Flow fa;
    fa.steps = {a};
    Flow fb;
    fb.steps = {b};
    return serializeFlow(fa) == serializeFlow(fb);
}

// Templates stand for values of any type, so a templated field is taken as a string.
Result<QJsonValue> templatedOr(const QString &text,
                               const std::function<Result<QJsonValue>(const QString &)> &parse) {
    if (text.contains(QLatin1String("{{")))
        return QJsonValue(text.trimmed());
    return parse(text);
}

Result<QJsonValue> parseString(const QString &text) {
    if (text.isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    return QJsonValue(text);
}

Result<QJsonValue> parseCount(const QString &text) {
    return parseIntegerText(text, 0, kIntMax);
}

Result<QJsonValue> parseSeed(const QString &text) {
    return parseIntegerText(text, std::numeric_limits<qint32>::min(), kIntMax);
}

Result<QJsonValue> parseRate(const QString &text) {
    return parseNumberText(text, 0.0, 1.0);
}

Result<QJsonValue> parseStatuses(const QString &text) {
    if (text.trimmed().isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    const QJsonArray list = parseListText(text);
    for (const QJsonValue &v : list) {
        if (!v.isDouble())
            return Status::error(
                QStringLiteral("\"%1\" is not a whole number; separate numbers with commas")
                    .arg(v.toString()));
    }
    return QJsonValue(list);
}

void setWithKey(Step &step, const QString &key, const QJsonValue &value) {
    if (value.isUndefined())
        step.with.remove(key);
    else
        step.with.insert(key, value);
}

// Finds the index of data in combo, adding an item for a value the list does not offer (an
// unknown resource, a templated method) so that what the file says is still shown.
int comboIndexFor(QComboBox *combo, const QString &data, const QString &unknownText = {}) {
    int index = combo->findData(data);
    if (index < 0) {
        combo->addItem(unknownText.isEmpty() ? data : unknownText.arg(data), data);
        index = combo->count() - 1;
    }
    return index;
}

QFormLayout *addGroup(QVBoxLayout *layout, const QString &title) {
    auto *group = new QGroupBox(title);
    auto *form = new QFormLayout(group);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    layout->addWidget(group);
    return form;
}

} // namespace

PropertyEditor::PropertyEditor(FlowDocument *document, QWidget *parent, Sections sections)
    : QWidget(parent)
    , m_document(document)
    , m_stack(new QStackedWidget(this))
    , m_scroll(new QScrollArea(this)) {
    auto *empty = new QLabel(tr("Select a step to edit its properties."));
    empty->setAlignment(Qt::AlignCenter);
    empty->setWordWrap(true);
    m_stack->addWidget(empty);

    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);
    m_title = new QLabel;
    m_title->setTextFormat(Qt::PlainText);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    layout->addWidget(m_title);
    if (sections == Sections::Policy) {
        buildRetryGroup(layout, false);
        buildTimingGroup(layout, true);
    } else {
        buildStepGroup(layout);
        buildWithGroup(layout);
        buildRetryGroup(layout, true);
        buildTimingGroup(layout, false);
        buildReliabilityGroup(layout);
        buildForeachGroup(layout);
    }
    layout->addStretch();
    m_scroll->setWidget(content);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_stack->addWidget(m_scroll);

    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(m_stack);

    connect(m_document, &FlowDocument::changed, this, &PropertyEditor::refresh);
    showStep({});
}

PropertyEditor::~PropertyEditor() {
    // Child widgets go first, while the fields their connections refer to still exist; a focus
    // change while they go (editingFinished) must not edit the document.
    m_filling = true;
    qDeleteAll(findChildren<QWidget *>(Qt::FindDirectChildrenOnly));
}

PropertyEditor::Field &PropertyEditor::addField(QFormLayout *form, const QString &key,
                                                const QString &label, QWidget *widget,
                                                const QString &kind) {
    if (!kind.isEmpty()) {
        QWidget *&page = m_kindPages[kind];
        if (!page) {
            page = new QWidget;
            auto *pageForm = new QFormLayout(page);
            pageForm->setContentsMargins(0, 0, 0, 0);
            pageForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
            m_withLayout->addWidget(page);
        }
        form = static_cast<QFormLayout *>(page->layout());
    }
    auto field = std::make_unique<Field>();
    field->key = key;
    field->label = label;
    field->kind = kind;
    field->widget = widget;
    field->form = form;
    const FormRow row = addFormRow(form, key, label, widget);
    field->error = row.error;
    field->cell = row.cell;
    field->labelWidget = row.label;
    m_fields.push_back(std::move(field));
    return *m_fields.back();
}

PropertyEditor::Field *PropertyEditor::findField(const QString &key) const {
    Field *generic = nullptr;
    for (const auto &field : m_fields) {
        if (field->key != key)
            continue;
        if (field->kind == m_kind)
            return field.get();
        if (field->kind.isEmpty())
            generic = field.get();
    }
    return generic;
}

QWidget *PropertyEditor::fieldWidget(const QString &field) const {
    const Field *f = findField(field);
    return f ? f->widget : nullptr;
}

QString PropertyEditor::fieldError(const QString &field) const {
    const Field *f = findField(field);
    return f && f->hasError ? f->error->text() : QString();
}

void PropertyEditor::setFieldError(Field &field, const QString &message) {
    field.hasError = !message.isEmpty();
    field.error->setText(message);
    field.error->setVisible(field.hasError);
}

// ---- building -----------------------------------------------------------------------------

void PropertyEditor::buildStepGroup(QVBoxLayout *layout) {
    QFormLayout *form = addGroup(layout, tr("Step"));

    auto *id = new QLineEdit;
    Field &idField = addField(form, QStringLiteral("id"), tr("Id"), id);
    idField.fill = [id](const Step &s) { setLineText(id, s.id); };
    idField.apply = [id](Step &s) {
        const QString text = id->text().trimmed();
        if (text.isEmpty())
            return Status::error(tr("A step needs an id (letters, digits, - and _)."));
        s.id = text;
        return Status::ok();
    };
    connect(id, &QLineEdit::editingFinished, this, [this, &idField] { commit(idField); });

    auto *kind = new QComboBox;
    for (const QString &k : knownStepKinds())
        kind->addItem(k, k);
    Field &kindField = addField(form, QStringLiteral("kind"), tr("Kind"), kind);
    kindField.fill = [kind](const Step &s) { kind->setCurrentIndex(comboIndexFor(kind, s.kind)); };
    kindField.apply = [kind](Step &s) {
        const QString next = kind->currentData().toString();
        if (next == s.kind)
            return Status::ok();
        // Keep the `with` keys the new kind understands (same meaning), drop the rest.
        const QStringList keys = withKeysOf(next); // a kind change keeps the new kind's keys
        QJsonObject with;
        for (auto it = s.with.begin(); it != s.with.end(); ++it) {
            if (!keys.contains(it.key()))
                continue;
            if (it.key() == QLatin1String("output") &&
                outputMeansFormat(s.kind) != outputMeansFormat(next))
                continue;
            with.insert(it.key(), it.value());
        }
        s.kind = next;
        s.with = with;
        return Status::ok();
    };
    connect(kind, &QComboBox::currentIndexChanged, this, [this, &kindField] { commit(kindField); });

    auto *description = new QLineEdit;
    Field &descriptionField =
        addField(form, QStringLiteral("description"), tr("Description"), description);
    descriptionField.fill = [description](const Step &s) {
        setLineText(description, s.description);
    };
    descriptionField.apply = [description](Step &s) {
        s.description = description->text();
        return Status::ok();
    };
    connect(description, &QLineEdit::editingFinished, this,
            [this, &descriptionField] { commit(descriptionField); });

    auto *after = new QListWidget;
    after->setMaximumHeight(after->fontMetrics().lineSpacing() * 8);
    Field &afterField = addField(form, QStringLiteral("after"), tr("After"), after);
    afterField.fill = [this, after](const Step &s) {
        // Rebuilt only when the other steps change: a refresh keeps the scroll position.
        if (after->property("ids").toStringList() != m_otherIds) {
            after->clear();
            for (const QString &other : std::as_const(m_otherIds)) {
                auto *item = new QListWidgetItem(other, after);
                item->setData(Qt::UserRole, other);
                item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
                // An explicit state: without one no checkbox is drawn and "shell" reads as set.
                item->setCheckState(Qt::Unchecked);
            }
            after->setProperty("ids", m_otherIds);
        }
        for (int i = 0; i < after->count(); ++i) {
            QListWidgetItem *item = after->item(i);
            const Qt::CheckState state =
                s.after.contains(item->data(Qt::UserRole).toString()) ? Qt::Checked : Qt::Unchecked;
            if (item->checkState() != state)
                item->setCheckState(state);
        }
    };
    afterField.apply = [after](Step &s) {
        QStringList checked;
        for (int i = 0; i < after->count(); ++i) {
            if (after->item(i)->checkState() == Qt::Checked)
                checked.append(after->item(i)->data(Qt::UserRole).toString());
        }
        // Keep the written order (and ids the list does not offer); new ones go last.
        QStringList next;
        for (const QString &upstream : std::as_const(s.after)) {
            if (checked.contains(upstream) ||
                after->findItems(upstream, Qt::MatchExactly).isEmpty())
                next.append(upstream);
        }
        for (const QString &upstream : std::as_const(checked)) {
            if (!next.contains(upstream))
                next.append(upstream);
        }
        s.after = next;
        return Status::ok();
    };
    connect(after, &QListWidget::itemChanged, this, [this, &afterField] { commit(afterField); });

    auto *join = new QComboBox;
    join->addItem(tr("(default: all_succeeded)"), QString());
    for (JoinRule rule :
         {JoinRule::AllSucceeded, JoinRule::AllDone, JoinRule::AnySucceeded, JoinRule::NoneFailed})
        join->addItem(QLatin1String(joinRuleName(rule)), QLatin1String(joinRuleName(rule)));
    Field &joinField = addField(form, QStringLiteral("join"), tr("Join"), join);
    joinField.fill = [join](const Step &s) {
        join->setCurrentIndex(
            join->findData(s.join ? QString::fromLatin1(joinRuleName(*s.join)) : QString()));
    };
    joinField.apply = [join](Step &s) {
        const QString name = join->currentData().toString();
        s.join = name.isEmpty() ? std::nullopt : joinRuleFromName(name);
        return Status::ok();
    };
    connect(join, &QComboBox::currentIndexChanged, this, [this, &joinField] { commit(joinField); });
}

void PropertyEditor::addWithText(QFormLayout *form, const QString &kind, const QString &key,
                                 const QString &label, Result<QJsonValue> (*parse)(const QString &),
                                 const QString &placeholder) {
    auto *edit = new QLineEdit;
    edit->setPlaceholderText(placeholder);
    Field &field = addField(form, QStringLiteral("with/") + key, label, edit, kind);
    field.fill = [edit, key](const Step &s) {
        const QJsonValue v = s.with.value(key);
        setLineText(edit, v.isArray() ? listText(v.toArray()) : valueText(v));
    };
    field.apply = [edit, key, parse](Step &s) {
        const auto value = templatedOr(edit->text(), parse);
        if (!value)
            return value.status();
        setWithKey(s, key, *value);
        return Status::ok();
    };
    connect(edit, &QLineEdit::editingFinished, this, [this, &field] { commit(field); });
}

void PropertyEditor::addWithJson(QFormLayout *form, const QString &kind, const QString &key,
                                 const QString &label) {
    auto *edit = new JsonFieldEdit;
    Field &field = addField(form, QStringLiteral("with/") + key, label, edit, kind);
    field.fill = [edit, key](const Step &s) { edit->setValue(s.with.value(key)); };
    field.apply = [edit, key](Step &s) {
        const auto value = parseJsonText(edit->toPlainText());
        if (!value)
            return value.status();
        setWithKey(s, key, *value);
        return Status::ok();
    };
    connect(edit, &JsonFieldEdit::editingFinished, this, [this, &field] { commit(field); });
    // Live check while typing; the document is untouched until the edit is finished. Queued:
    // showing the message relayouts the form, which must not happen inside the text edit's
    // own key handling.
    connect(
        edit, &JsonFieldEdit::problemChanged, this,
        [this, &field, edit] { setFieldError(field, edit->problem()); }, Qt::QueuedConnection);
}

void PropertyEditor::addWithChoice(QFormLayout *form, const QString &kind, const QString &key,
                                   const QString &label, const QStringList &choices,
                                   const QString &fallback) {
    auto *combo = new QComboBox;
    combo->addItem(tr("(default: %1)").arg(fallback), QString());
    for (const QString &choice : choices)
        combo->addItem(choice, choice);
    Field &field = addField(form, QStringLiteral("with/") + key, label, combo, kind);
    field.fill = [combo, key](const Step &s) {
        combo->setCurrentIndex(comboIndexFor(combo, s.with.value(key).toString()));
    };
    field.apply = [combo, key](Step &s) {
        const QString value = combo->currentData().toString();
        setWithKey(s, key, value.isEmpty() ? QJsonValue(QJsonValue::Undefined) : value);
        return Status::ok();
    };
    connect(combo, &QComboBox::currentIndexChanged, this, [this, &field] { commit(field); });
}

void PropertyEditor::buildWithGroup(QVBoxLayout *layout) {
    // One page (a form) per kind, shown for the kind of the step: hidden rows inside a form are
    // avoided (QFormLayout::setRowVisible corrupts memory in Qt 6.4.2).
    auto *group = new QGroupBox(tr("Action"));
    m_withLayout = new QVBoxLayout(group);
    layout->addWidget(group);
    QFormLayout *form = nullptr; // addField() puts each kind's fields on its page
    const QString noop = QStringLiteral("noop");
    const QString delay = QStringLiteral("delay");
    const QString shell = QStringLiteral("shell");
    const QString http = QStringLiteral("http");
    const QString sql = QStringLiteral("sql");
    const QString approval = QStringLiteral("approval");
    const QString subflow = QStringLiteral("subflow");
    const QString fault = QStringLiteral("fault");

    addWithJson(form, noop, QStringLiteral("output"), tr("Output"));

    addWithText(form, delay, QStringLiteral("duration"), tr("Duration"), parseDurationText,
                tr("e.g. 10s"));

    auto *argv = new ArgvListEdit;
    Field &argvField = addField(form, QStringLiteral("with/argv"), tr("Arguments"), argv, shell);
    argv->list()->setAccessibleName(tr("Arguments"));
    argvField.fill = [argv](const Step &s) {
        QStringList arguments;
        for (const QJsonValue &v : s.with.value(QLatin1String("argv")).toArray())
            arguments.append(v.isString() ? v.toString() : jsonText(v, false));
        argv->setArguments(arguments);
    };
    argvField.apply = [argv](Step &s) {
        const QJsonArray previous = s.with.value(QLatin1String("argv")).toArray();
        QJsonArray list;
        const QStringList arguments = argv->arguments();
        for (qsizetype i = 0; i < arguments.size(); ++i) {
            // Non-string elements written by hand stay what they were unless edited.
            const bool unchanged = i < previous.size() && !previous.at(i).isString() &&
                                   jsonText(previous.at(i), false) == arguments.at(i);
            list.append(unchanged ? previous.at(i) : QJsonValue(arguments.at(i)));
        }
        s.with.insert(QStringLiteral("argv"), list);
        return Status::ok();
    };
    connect(argv, &ArgvListEdit::edited, this, [this, &argvField] { commit(argvField); });

    addWithText(form, shell, QStringLiteral("cwd"), tr("Working directory"), parseString,
                tr("(default: the worker's)"));

    auto *env = new KeyValueTableEdit(tr("Variable"));
    Field &envField = addField(form, QStringLiteral("with/env"), tr("Environment"), env, shell);
    env->table()->setAccessibleName(tr("Environment"));
    envField.fill = [env](const Step &s) {
        env->setMap(s.with.value(QLatin1String("env")).toObject());
    };
    envField.apply = [env](Step &s) {
        const QJsonObject map = env->map();
        setWithKey(s, QStringLiteral("env"),
                   map.isEmpty() ? QJsonValue(QJsonValue::Undefined) : QJsonValue(map));
        return Status::ok();
    };
    connect(env, &KeyValueTableEdit::edited, this, [this, &envField] { commit(envField); });

    auto *viaShell = new QCheckBox(tr("run the first argument as a /bin/sh script"));
    Field &shellField = addField(form, QStringLiteral("with/shell"), tr("Shell"), viaShell, shell);
    shellField.fill = [viaShell](const Step &s) {
        viaShell->setChecked(s.with.value(QLatin1String("shell")).toBool(false));
    };
    shellField.apply = [viaShell](Step &s) {
        // false is the default: leave the key out rather than writing it.
        setWithKey(s, QStringLiteral("shell"),
                   viaShell->isChecked() ? QJsonValue(true) : QJsonValue(QJsonValue::Undefined));
        return Status::ok();
    };
    connect(viaShell, &QCheckBox::toggled, this, [this, &shellField] { commit(shellField); });

    addWithChoice(form, shell, QStringLiteral("output"), tr("Output format"),
                  {QStringLiteral("text"), QStringLiteral("json")}, QStringLiteral("text"));
    addWithText(form, shell, QStringLiteral("permanent_exit_codes"), tr("Permanent exit codes"),
                parseStatuses, tr("e.g. 2, 64"));

    addWithChoice(form, http, QStringLiteral("method"), tr("Method"),
                  {QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"),
                   QStringLiteral("PATCH"), QStringLiteral("DELETE"), QStringLiteral("HEAD"),
                   QStringLiteral("OPTIONS")},
                  QStringLiteral("GET"));
    addWithText(form, http, QStringLiteral("url"), tr("URL"), parseString,
                QStringLiteral("https://"));

    auto *headers = new KeyValueTableEdit(tr("Header"));
    Field &headersField =
        addField(form, QStringLiteral("with/headers"), tr("Headers"), headers, http);
    headers->table()->setAccessibleName(tr("Headers"));
    headersField.fill = [headers](const Step &s) {
        headers->setMap(s.with.value(QLatin1String("headers")).toObject());
    };
    headersField.apply = [headers](Step &s) {
        const QJsonObject map = headers->map();
        setWithKey(s, QStringLiteral("headers"),
                   map.isEmpty() ? QJsonValue(QJsonValue::Undefined) : QJsonValue(map));
        return Status::ok();
    };
    connect(headers, &KeyValueTableEdit::edited, this,
            [this, &headersField] { commit(headersField); });

    addWithJson(form, http, QStringLiteral("body"), tr("Body"));
    addWithText(form, http, QStringLiteral("expect"), tr("Expected statuses"), parseStatuses,
                tr("(default: any 2xx)"));
    addWithText(form, http, QStringLiteral("idempotency_header"), tr("Idempotency header"),
                parseString, tr("Idempotency-Key (default)"));

    addWithText(form, sql, QStringLiteral("connection"), tr("Connection"), parseString,
                tr("connection name"));
    auto *statement = new TextFieldEdit;
    Field &statementField =
        addField(form, QStringLiteral("with/statement"), tr("Statement"), statement, sql);
    statementField.fill = [statement](const Step &s) {
        statement->setFieldText(s.with.value(QLatin1String("statement")).toString());
    };
    statementField.apply = [statement](Step &s) {
        setWithKey(s, QStringLiteral("statement"), *parseString(statement->toPlainText()));
        return Status::ok();
    };
    connect(statement, &TextFieldEdit::editingFinished, this,
            [this, &statementField] { commit(statementField); });
    addWithJson(form, sql, QStringLiteral("bind"), tr("Bind values"));

    addWithText(form, approval, QStringLiteral("prompt"), tr("Prompt"), parseString);

    addWithText(form, subflow, QStringLiteral("flow"), tr("Subflow file"), parseString,
                tr("path to a .flow.json"));
    addWithJson(form, subflow, QStringLiteral("params"), tr("Subflow params"));

    addWithText(form, fault, QStringLiteral("fail_first"), tr("Fail first"), parseCount,
                tr("0 (default)"));
    addWithText(form, fault, QStringLiteral("fail_rate"), tr("Fail rate"), parseRate,
                tr("0 (default)"));
    addWithChoice(form, fault, QStringLiteral("error"), tr("Error"),
                  {QStringLiteral("transient"), QStringLiteral("permanent"),
                   QStringLiteral("timeout"), QStringLiteral("garbage")},
                  QStringLiteral("transient"));
    addWithText(form, fault, QStringLiteral("latency"), tr("Latency"), parseDurationText,
                tr("0ms (default)"));
    addWithText(form, fault, QStringLiteral("seed"), tr("Seed"), parseSeed, tr("0 (default)"));
    addWithJson(form, fault, QStringLiteral("output"), tr("Output"));

    // Everything else (unknown kinds, keys without a widget) through the whole object.
    auto *rawPage = new QWidget;
    form = new QFormLayout(rawPage);
    form->setContentsMargins(0, 0, 0, 0);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_withLayout->addWidget(rawPage);
    auto *raw = new JsonFieldEdit;
    Field &rawField = addField(form, QStringLiteral("with"), tr("With (JSON)"), raw);
    rawField.fill = [raw](const Step &s) { raw->setValue(s.with); };
    rawField.apply = [raw](Step &s) {
        const auto value = parseJsonText(raw->toPlainText());
        if (!value)
            return value.status();
        if (!value->isUndefined() && !value->isObject())
            return Status::error(tr("\"with\" must be a JSON object: { \"key\": value }"));
        s.with = value->toObject();
        return Status::ok();
    };
    connect(raw, &JsonFieldEdit::editingFinished, this, [this, &rawField] { commit(rawField); });
    connect(
        raw, &JsonFieldEdit::problemChanged, this,
        [this, &rawField, raw] { setFieldError(rawField, raw->problem()); }, Qt::QueuedConnection);
}

void PropertyEditor::buildRetryGroup(QVBoxLayout *layout, bool withJitter) {
    QFormLayout *form = addGroup(layout, tr("Retry"));
    for (const RetryField &retryField : retryFields()) {
        const QString key = retryField.key;
        if (!withJitter && key == QLatin1String("jitter"))
            continue;
        auto *edit = new QLineEdit;
        Field &field = addField(form, QStringLiteral("retry/") + key, retryField.label, edit);
        field.fill = [this, edit, key](const Step &s) {
            // The placeholder is what applies when the field stays empty: defaults, then built-in.
            Step bare = s;
            bare.retry.reset();
            edit->setPlaceholderText(
                retryPlaceholder(m_document->flow().effectiveRetry(bare), key));
            const QJsonValue v = s.retry ? s.retry->value(key) : QJsonValue();
            setLineText(edit, v.isArray() ? listText(v.toArray()) : valueText(v));
        };
        field.apply = [edit, key](Step &s) {
            const auto value = parseRetryText(key, edit->text());
            if (!value)
                return value.status();
            QJsonObject retry = s.retry.value_or(QJsonObject());
            if (value->isUndefined())
                retry.remove(key);
            else
                retry.insert(key, *value);
            s.retry = retry.isEmpty() ? std::nullopt : std::optional<QJsonObject>(retry);
            return Status::ok();
        };
        connect(edit, &QLineEdit::editingFinished, this, [this, &field] { commit(field); });
    }
}

void PropertyEditor::buildTimingGroup(QVBoxLayout *layout, bool policyOnly) {
    QFormLayout *form = addGroup(layout, tr("Timing"));
    struct DurationKey {
        QString key;
        QString label;
        std::optional<Duration> Step::*member;
    };
    const QList<DurationKey> durations{
        {QStringLiteral("timeout"), tr("Timeout"), &Step::timeout},
        {QStringLiteral("deadline"), tr("Deadline"), &Step::deadline},
        {QStringLiteral("delay"), tr("Delay"), &Step::delay},
    };
    for (const DurationKey &d : durations) {
        if (policyOnly && d.key == QLatin1String("delay"))
            continue; // before the first attempt: nothing a running step still waits for
        auto *edit = new QLineEdit;
        Field &field = addField(form, d.key, d.label, edit);
        const auto member = d.member;
        const bool isTimeout = d.key == QLatin1String("timeout");
        field.fill = [this, edit, member, isTimeout](const Step &s) {
            QString placeholder = tr("none (default)");
            if (isTimeout && m_document->flow().defaultTimeout)
                placeholder =
                    tr("%1 (default)").arg(durationText(m_document->flow().defaultTimeout));
            edit->setPlaceholderText(placeholder);
            setLineText(edit, durationText(s.*member));
        };
        field.apply = [edit, member](Step &s) {
            const auto value = parseDurationText(edit->text());
            if (!value)
                return value.status();
            s.*member = value->isUndefined()
                            ? std::nullopt
                            : std::optional<Duration>(durationFromText(value->toString()));
            return Status::ok();
        };
        connect(edit, &QLineEdit::editingFinished, this, [this, &field] { commit(field); });
    }
    if (policyOnly)
        return;

    auto *notBefore = new QLineEdit;
    notBefore->setPlaceholderText(tr("e.g. 2026-11-26T08:00:00Z"));
    Field &notBeforeField =
        addField(form, QStringLiteral("not_before"), tr("Not before"), notBefore);
    notBeforeField.fill = [notBefore](const Step &s) { setLineText(notBefore, s.notBefore); };
    notBeforeField.apply = [notBefore](Step &s) {
        const QString text = notBefore->text().trimmed();
        if (!text.isEmpty() && !text.contains(QLatin1String("{{")) &&
            !QDateTime::fromString(text, Qt::ISODateWithMs).isValid())
            return Status::error(
                tr("\"%1\" is not an ISO 8601 time such as 2026-11-26T08:00:00Z").arg(text));
        s.notBefore = text;
        return Status::ok();
    };
    connect(notBefore, &QLineEdit::editingFinished, this,
            [this, &notBeforeField] { commit(notBeforeField); });
}

void PropertyEditor::buildReliabilityGroup(QVBoxLayout *layout) {
    QFormLayout *form = addGroup(layout, tr("Reliability"));

    auto *idempotency = new QComboBox;
    idempotency->addItem(tr("(default: keyed)"), QString());
    for (Idempotency i : {Idempotency::Idempotent, Idempotency::Keyed, Idempotency::None})
        idempotency->addItem(QLatin1String(idempotencyName(i)), QLatin1String(idempotencyName(i)));
    Field &idempotencyField =
        addField(form, QStringLiteral("idempotency"), tr("Idempotency"), idempotency);
    idempotencyField.fill = [idempotency](const Step &s) {
        idempotency->setCurrentIndex(idempotency->findData(
            s.idempotency ? QString::fromLatin1(idempotencyName(*s.idempotency)) : QString()));
    };
    idempotencyField.apply = [idempotency](Step &s) {
        const QString name = idempotency->currentData().toString();
        s.idempotency = name.isEmpty() ? std::nullopt : idempotencyFromName(name);
        return Status::ok();
    };
    connect(idempotency, &QComboBox::currentIndexChanged, this,
            [this, &idempotencyField] { commit(idempotencyField); });

    auto *resource = new QComboBox;
    Field &resourceField = addField(form, QStringLiteral("resource"), tr("Resource"), resource);
    resourceField.fill = [this, resource](const Step &s) {
        resource->clear();
        resource->addItem(tr("(none)"), QString());
        for (const ResourceSpec &r : m_document->flow().resources)
            resource->addItem(r.name, r.name);
        resource->setCurrentIndex(comboIndexFor(resource, s.resource, tr("%1 (not defined)")));
    };
    resourceField.apply = [resource](Step &s) {
        s.resource = resource->currentData().toString();
        return Status::ok();
    };
    connect(resource, &QComboBox::currentIndexChanged, this,
            [this, &resourceField] { commit(resourceField); });

    // Fallback: a kind combo, then the value or the step row for that kind.
    auto *fallback = new QComboBox;
    fallback->addItem(tr("None"), int(Fallback::Kind::None));
    fallback->addItem(tr("A fixed value"), int(Fallback::Kind::Value));
    fallback->addItem(tr("Another step's output"), int(Fallback::Kind::Step));
    Field &fallbackField = addField(form, QStringLiteral("fallback"), tr("Fallback"), fallback);
    fallbackField.fill = [fallback](const Step &s) {
        fallback->setCurrentIndex(fallback->findData(int(s.fallback.kind)));
    };
    fallbackField.apply = [this, fallback](Step &s) {
        const auto kind = static_cast<Fallback::Kind>(fallback->currentData().toInt());
        if (kind == s.fallback.kind)
            return Status::ok();
        Fallback next;
        next.kind = kind;
        if (kind == Fallback::Kind::Value) {
            next.value = QJsonValue(QJsonValue::Null); // edited in the value row next
        } else if (kind == Fallback::Kind::Step) {
            if (m_otherIds.isEmpty())
                return Status::error(tr("There is no other step whose output could stand in."));
            next.step = m_otherIds.first();
        }
        s.fallback = next;
        return Status::ok();
    };
    connect(fallback, &QComboBox::currentIndexChanged, this,
            [this, &fallbackField] { commit(fallbackField); });

    auto *fallbackValue = new JsonFieldEdit;
    Field &valueField =
        addField(form, QStringLiteral("fallback/value"), tr("Fallback value"), fallbackValue);
    valueField.fill = [fallbackValue](const Step &s) {
        fallbackValue->setValue(s.fallback.kind == Fallback::Kind::Value ? s.fallback.value
                                                                         : QJsonValue());
    };
    valueField.apply = [fallbackValue](Step &s) {
        const auto value = parseJsonText(fallbackValue->toPlainText());
        if (!value)
            return value.status();
        if (value->isUndefined())
            return Status::error(tr("Enter a JSON value (null is one)."));
        s.fallback.kind = Fallback::Kind::Value;
        s.fallback.value = *value;
        return Status::ok();
    };
    connect(fallbackValue, &JsonFieldEdit::editingFinished, this,
            [this, &valueField] { commit(valueField); });
    connect(
        fallbackValue, &JsonFieldEdit::problemChanged, this,
        [this, &valueField, fallbackValue] { setFieldError(valueField, fallbackValue->problem()); },
        Qt::QueuedConnection);

    auto *fallbackStep = new QComboBox;
    Field &stepField =
        addField(form, QStringLiteral("fallback/step"), tr("Fallback step"), fallbackStep);
    stepField.fill = [this, fallbackStep](const Step &s) {
        if (fallbackStep->property("ids").toStringList() != m_otherIds ||
            fallbackStep->count() != m_otherIds.size()) {
            fallbackStep->clear();
            for (const QString &other : std::as_const(m_otherIds))
                fallbackStep->addItem(other, other);
            fallbackStep->setProperty("ids", m_otherIds);
        }
        if (s.fallback.kind == Fallback::Kind::Step)
            fallbackStep->setCurrentIndex(
                comboIndexFor(fallbackStep, s.fallback.step, tr("%1 (unknown step)")));
    };
    stepField.apply = [fallbackStep](Step &s) {
        s.fallback.kind = Fallback::Kind::Step;
        s.fallback.step = fallbackStep->currentData().toString();
        s.fallback.value = QJsonValue();
        return Status::ok();
    };
    connect(fallbackStep, &QComboBox::currentIndexChanged, this,
            [this, &stepField] { commit(stepField); });
}

void PropertyEditor::buildForeachGroup(QVBoxLayout *layout) {
    QFormLayout *form = addGroup(layout, tr("For each"));

    auto *items = new QLineEdit;
    items->setPlaceholderText(tr("{{steps.fetch.output.items}} or a JSON list"));
    Field &foreachField = addField(form, QStringLiteral("foreach"), tr("Items"), items);
    foreachField.fill = [items](const Step &s) {
        setLineText(items,
                    s.foreach.isString() ? s.foreach.toString() : jsonText(s.foreach, false));
    };
    foreachField.apply = [items](Step &s) {
        const QString text = items->text().trimmed();
        if (text.isEmpty()) {
            s.foreach = QJsonValue(QJsonValue::Undefined);
        } else if (text.startsWith(QLatin1Char('['))) {
            const auto value = parseJsonText(text);
            if (!value)
                return value.status();
            s.foreach = *value;
        } else {
            s.foreach = text;
        }
        return Status::ok();
    };
    connect(items, &QLineEdit::editingFinished, this,
            [this, &foreachField] { commit(foreachField); });

    auto *itemKey = new QLineEdit;
    itemKey->setPlaceholderText(tr("the item's index (default)"));
    Field &itemKeyField = addField(form, QStringLiteral("item_key"), tr("Item key"), itemKey);
    itemKeyField.fill = [itemKey](const Step &s) { setLineText(itemKey, s.itemKey); };
    itemKeyField.apply = [itemKey](Step &s) {
        s.itemKey = itemKey->text().trimmed();
        return Status::ok();
    };
    connect(itemKey, &QLineEdit::editingFinished, this,
            [this, &itemKeyField] { commit(itemKeyField); });

    auto *concurrency = new QLineEdit;
    concurrency->setPlaceholderText(tr("no limit (default)"));
    Field &concurrencyField =
        addField(form, QStringLiteral("concurrency"), tr("Concurrency"), concurrency);
    concurrencyField.fill = [concurrency](const Step &s) {
        setLineText(concurrency, s.concurrency ? QString::number(*s.concurrency) : QString());
    };
    concurrencyField.apply = [concurrency](Step &s) {
        const auto value = parseIntegerText(concurrency->text(), 1, kIntMax);
        if (!value)
            return value.status();
        s.concurrency =
            value->isUndefined() ? std::nullopt : std::optional<int>(value->toInteger());
        return Status::ok();
    };
    connect(concurrency, &QLineEdit::editingFinished, this,
            [this, &concurrencyField] { commit(concurrencyField); });

    auto *maxFailed = new QLineEdit;
    maxFailed->setPlaceholderText(tr("0 (default)"));
    Field &maxFailedField =
        addField(form, QStringLiteral("tolerate/max_failed"), tr("Max failed items"), maxFailed);
    auto *maxRatio = new QLineEdit;
    maxRatio->setPlaceholderText(tr("0 (default)"));
    Field &maxRatioField = addField(form, QStringLiteral("tolerate/max_failed_ratio"),
                                    tr("Max failed ratio"), maxRatio);
    maxFailedField.fill = [maxFailed](const Step &s) {
        setLineText(maxFailed, s.tolerate && s.tolerate->maxFailed
                                   ? QString::number(*s.tolerate->maxFailed)
                                   : QString());
    };
    maxRatioField.fill = [maxRatio](const Step &s) {
        setLineText(maxRatio, s.tolerate && s.tolerate->maxFailedRatio
                                  ? valueText(*s.tolerate->maxFailedRatio)
                                  : QString());
    };
    maxFailedField.apply = [maxFailed](Step &s) {
        const auto value = parseIntegerText(maxFailed->text(), 0, kIntMax);
        if (!value)
            return value.status();
        Tolerate t = s.tolerate.value_or(Tolerate());
        t.maxFailed = value->isUndefined() ? std::nullopt : std::optional<int>(value->toInteger());
        const bool empty = !t.maxFailed && !t.maxFailedRatio;
        s.tolerate = empty ? std::nullopt : std::optional<Tolerate>(t);
        return Status::ok();
    };
    maxRatioField.apply = [maxRatio](Step &s) {
        const auto value = parseNumberText(maxRatio->text(), 0.0, 1.0);
        if (!value)
            return value.status();
        Tolerate t = s.tolerate.value_or(Tolerate());
        t.maxFailedRatio =
            value->isUndefined() ? std::nullopt : std::optional<double>(value->toDouble());
        const bool empty = !t.maxFailed && !t.maxFailedRatio;
        s.tolerate = empty ? std::nullopt : std::optional<Tolerate>(t);
        return Status::ok();
    };
    connect(maxFailed, &QLineEdit::editingFinished, this,
            [this, &maxFailedField] { commit(maxFailedField); });
    connect(maxRatio, &QLineEdit::editingFinished, this,
            [this, &maxRatioField] { commit(maxRatioField); });
}

// ---- showing and committing -----------------------------------------------------------------

void PropertyEditor::showStep(const QString &id) {
    const Step *step = id.isEmpty() ? nullptr : m_document->flow().step(id);
    if (!step) {
        m_stepId.clear();
        m_stepIndex = -1;
        m_kind.clear();
        m_stack->setCurrentIndex(0);
        return;
    }
    const bool same = id == m_stepId;
    m_stepId = id;
    m_stepIndex = m_document->flow().indexOfStep(id);
    m_stepCount = m_document->flow().steps.size();
    m_stack->setCurrentIndex(1);
    fill(*step, same);
}

void PropertyEditor::refresh() {
    if (m_stepId.isEmpty())
        return;
    const Flow &flow = m_document->flow();
    if (!flow.step(m_stepId)) {
        // Same number of steps and the id gone from its place: a rename (or its undo); follow it.
        if (m_stepIndex >= 0 && m_stepIndex < flow.steps.size() &&
            flow.steps.size() == m_stepCount && flow.indexOfStep(m_stepId) < 0) {
            m_stepId = flow.steps.at(m_stepIndex).id;
        } else {
            showStep({});
            return;
        }
    }
    m_stepIndex = flow.indexOfStep(m_stepId);
    m_stepCount = flow.steps.size();
    fill(*flow.step(m_stepId), true);
}

void PropertyEditor::fill(const Step &step, bool sameStep) {
    const Flow &flow = m_document->flow();
    m_kind = step.kind;
    m_title->setText(tr("Step %1 (%2)").arg(step.id, step.kind));
    QStringList others;
    others.reserve(flow.steps.size());
    for (const Step &s : flow.steps) {
        if (s.id != step.id)
            others.append(s.id);
    }
    m_otherIds = others;

    m_filling = true;
    for (const auto &field : m_fields) {
        // A field showing a problem keeps the user's text until it is fixed or another step shows.
        if (sameStep && field->hasError)
            continue;
        // Nor is text being typed overwritten: the user commits or leaves it first.
        if (auto *edit = qobject_cast<QLineEdit *>(field->widget);
            sameStep && edit && edit->hasFocus() && edit->isModified())
            continue;
        {
            const QSignalBlocker blocker(field->widget);
            field->fill(step);
        }
        setFieldError(*field, {});
    }
    m_filling = false;
    updateRows(step);
}

void PropertyEditor::updateRows(const Step &step) {
    for (auto it = m_kindPages.begin(); it != m_kindPages.end(); ++it)
        it.value()->setVisible(it.key() == step.kind);
    // Disabled rather than hidden (see buildWithGroup): the fallback rows of the other kinds.
    // (The policy sections have none.)
    if (Field *value = findField(QStringLiteral("fallback/value")))
        value->widget->setEnabled(step.fallback.kind == Fallback::Kind::Value);
    if (Field *fallbackStep = findField(QStringLiteral("fallback/step")))
        fallbackStep->widget->setEnabled(step.fallback.kind == Fallback::Kind::Step);
}

void PropertyEditor::commit(Field &field) {
    if (m_filling || m_stepId.isEmpty())
        return;
    const Step *current = m_document->flow().step(m_stepId);
    if (!current)
        return;
    Step step = *current;
    const Status parsed = field.apply(step);
    if (!parsed) {
        setFieldError(field, parsed.message());
        return;
    }
    setFieldError(field, {});
    if (sameStep(step, *current))
        return;
    const QString oldId = m_stepId;
    // Set before the request: the document's changed() refreshes us while it applies.
    m_stepId = step.id;
    // A rename gets the document's own label ("Rename a to b").
    const QString text = field.key == QLatin1String("id")
                             ? QString()
                             : tr("Edit %1 of %2").arg(field.label.toLower(), oldId);
    const Status done = m_document->requestStepReplace(oldId, step, text);
    if (!done) {
        m_stepId = oldId;
        setFieldError(field, done.message());
        Q_EMIT editRefused(done.message());
        return;
    }
    if (auto *edit = qobject_cast<QLineEdit *>(field.widget))
        edit->setModified(false); // committed: later document changes may refresh it
}

// ---- focus ----------------------------------------------------------------------------------

PropertyEditor::Field *PropertyEditor::fieldForPath(const QString &rest) const {
    QString key = rest;
    while (!key.isEmpty()) {
        if (Field *field = findField(key))
            return field;
        // A group key ("retry", "tolerate") focuses its first field.
        for (const auto &field : m_fields) {
            if (field->key.startsWith(key + QLatin1Char('/')) &&
                (field->kind.isEmpty() || field->kind == m_kind))
                return field.get();
        }
        const qsizetype slash = key.lastIndexOf(QLatin1Char('/'));
        key = slash < 0 ? QString() : key.left(slash);
    }
    return findField(QStringLiteral("id"));
}

void PropertyEditor::focusField(const QString &jsonPath) {
    const QStringList parts = jsonPath.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (parts.size() < 2 || parts.at(0) != QLatin1String("steps"))
        return;
    bool ok = false;
    const qsizetype index = parts.at(1).toLongLong(&ok);
    const Flow &flow = m_document->flow();
    if (!ok || index < 0 || index >= flow.steps.size())
        return;
    const QString id = flow.steps.at(index).id;
    if (id != m_stepId || m_stack->currentIndex() != 1)
        showStep(id);
    if (m_stepId.isEmpty())
        return;
    Field *field = fieldForPath(parts.mid(2).join(QLatin1Char('/')));
    if (field && !field->widget->isEnabled())
        field = field->key.startsWith(QLatin1String("fallback/"))
                    ? findField(QStringLiteral("fallback"))
                    : findField(QStringLiteral("with"));
    if (!field)
        return;
    m_scroll->ensureWidgetVisible(field->widget);
    field->widget->setFocus(Qt::OtherFocusReason);
    if (auto *edit = qobject_cast<QLineEdit *>(field->widget))
        edit->selectAll();
}

} // namespace keepflow::ui
