// The template parser and renderer on arbitrary text: no crash, no hang; text without a template
// renders to itself, and a reference that parses renders or says what is missing.

#include "fuzztarget.h"
#include "model/template.h"

#include <QJsonArray>

using namespace keepflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const QString text = QString::fromUtf8(fuzz::bytes(data, size));
    const auto refs = parseTemplates(text);
    TemplateScope scope;
    scope.params = {{QStringLiteral("date"), QStringLiteral("2026-11-27")},
                    {QStringLiteral("n"), 3},
                    {QStringLiteral("list"), QJsonArray{1, QStringLiteral("two")}}};
    scope.stepOutputs.insert(QStringLiteral("fetch"),
                             QJsonObject{{QStringLiteral("orders"), QJsonArray{7, 8}}});
    scope.item = QJsonObject{{QStringLiteral("id"), 42}};
    scope.runId = QStringLiteral("run-1");
    scope.idempotencyKey = QStringLiteral("run-1/step/1");
    const auto rendered = renderTemplates(QJsonValue(text), scope);
    if (refs && refs->isEmpty() && !hasTemplate(text)) {
        fuzz::require(rendered.isOk() && *rendered == QJsonValue(text),
                      QStringLiteral("text without a template changed when rendered"));
    }
    if (!rendered)
        fuzz::require(!rendered.error().isEmpty(), QStringLiteral("a render error says nothing"));
    return 0;
}
