// The position-tracking JSON reader on arbitrary bytes: no crash, no hang, and every position it
// reports (of a value, a key or an error) lies inside the text.

#include "fuzztarget.h"
#include "model/jsonpositions.h"

using namespace keepflow;

namespace {

/// Lines as the reader counts them: "\n", "\r\n" and a lone "\r" each end one.
qsizetype lineCount(const QByteArray &text) {
    qsizetype lines = 1;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')))
            ++lines;
    }
    return lines;
}

bool inside(const TextPosition &position, qsizetype lines) {
    return position.line >= 1 && position.line <= lines && position.column >= 1;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const QByteArray text = fuzz::bytes(data, size);
    const qsizetype lines = lineCount(text);
    const JsonParseResult result = parseJsonWithPositions(text);
    // Recording positions changes nothing else: the same value, or the same error at the same
    // place.
    const JsonParseResult bare = parseJson(text, JsonPositions::NotRecorded);
    fuzz::require(bare.ok == result.ok && bare.errorMessage == result.errorMessage &&
                      bare.errorPosition.line == result.errorPosition.line &&
                      bare.errorPosition.column == result.errorPosition.column &&
                      bare.json.value == result.json.value,
                  QStringLiteral("parsing without positions gave another result"));
    if (!result.ok) {
        fuzz::require(!result.errorMessage.isEmpty(), QStringLiteral("an error without a message"));
        fuzz::require(inside(result.errorPosition, lines),
                      QStringLiteral("an error outside the text: ") + result.errorMessage);
        return 0;
    }
    for (auto it = result.json.valuePositions.begin(); it != result.json.valuePositions.end(); ++it)
        fuzz::require(inside(it.value(), lines),
                      QStringLiteral("a value outside the text at ") + it.key());
    for (auto it = result.json.keyPositions.begin(); it != result.json.keyPositions.end(); ++it)
        fuzz::require(inside(it.value(), lines),
                      QStringLiteral("a key outside the text at ") + it.key());
    return 0;
}
