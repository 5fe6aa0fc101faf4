#pragma once

// Templates of the flow format: {{params.NAME}}, {{steps.ID.output.PATH}}, {{item}}, {{item.PATH}},
// {{run.id}}, {{idempotency_key}}, {{secrets.NAME}} (model/secrets.h). A string that is exactly one
// template takes the referenced JSON value itself; inside a longer string the value is written as
// text. Rendering produces JSON values only: it never builds a shell string.

#include "core/status.h"

#include <QHash>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace keepflow {

/// One {{...}} reference found in a string.
struct TemplateRef {
    QString root;     ///< "params", "steps", "item", "run", "idempotency_key" or "secrets"
    QStringList path; ///< segments after the root, e.g. {"fetch", "output", "body", "orders"}
    int offset = 0;   ///< offset of "{{" in the string
    int length = 0;   ///< length of the whole "{{...}}"
};

/// Finds the references in text; a syntax error (unclosed braces, empty or unknown root, bad
/// segment) is an error naming the offset and the problem.
Result<QList<TemplateRef>> parseTemplates(const QString &text);
/// True when text contains "{{".
bool hasTemplate(const QString &text);

/// What templates can see while rendering one attempt's input.
struct TemplateScope {
    QJsonObject params;
    QHash<QString, QJsonValue> stepOutputs; ///< step id -> its output
    std::optional<QJsonValue> item;         ///< set inside a foreach
    QString runId;
    QString idempotencyKey;
    /// Looks up {{secrets.NAME}} when set; unset where secrets cannot be used.
    std::function<Result<QString>(const QString &name)> secret;
};

/// A value written as text, as inside a longer template string: strings as they are, integers
/// without a fraction, booleans, objects and arrays as compact JSON, null as nothing. Also how
/// argv elements, environment and header values are written.
QString templateText(const QJsonValue &value);

/// The value one reference stands for; an error names the template and the missing part.
Result<QJsonValue> resolveTemplate(const TemplateRef &ref, const TemplateScope &scope);

/// Renders every string inside value (objects and arrays recursively; keys are not rendered).
/// A reference to something missing is an error naming the template and the missing part.
Result<QJsonValue> renderTemplates(const QJsonValue &value, const TemplateScope &scope);

} // namespace keepflow
