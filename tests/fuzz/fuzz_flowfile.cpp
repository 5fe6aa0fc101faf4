// The flow reader and validator on arbitrary bytes: no crash, no hang, every problem located,
// and a flow that loads writes back to text that loads to the same canonical text.

#include "fuzztarget.h"
#include "model/flowfile.h"

using namespace keepflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const FlowLoad load = parseFlow(fuzz::bytes(data, size), QStringLiteral("fuzz.flow.json"));
    for (const Diagnostic &problem : load.diagnostics)
        fuzz::require(problem.line >= 1 && problem.column >= 1 && !problem.message.isEmpty(),
                      QStringLiteral("a problem without a place: ") + problem.toString());
    if (!load.ok())
        return 0;
    const QByteArray canonical = serializeFlow(*load.flow);
    const FlowLoad again = parseFlow(canonical, QStringLiteral("canonical.flow.json"));
    fuzz::require(again.ok(),
                  QStringLiteral("the canonical text does not load: ") + again.errorText());
    fuzz::require(serializeFlow(*again.flow) == canonical,
                  QStringLiteral("writing the flow back is not stable"));
    return 0;
}
