#include "core/messagetext.h"

#include <cmath>

namespace keepflow {

namespace {

void appendEscaped(QString &out, QStringView text, qsizetype maxChars, bool quoted) {
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (i == maxChars) {
            out += QStringLiteral("…");
            break;
        }
        const char16_t c = text.at(i).unicode();
        switch (c) {
        case u'\n':
            out += QLatin1String("\\n");
            continue;
        case u'\r':
            out += QLatin1String("\\r");
            continue;
        case u'\t':
            out += QLatin1String("\\t");
            continue;
        case u'\\':
            out += QLatin1String("\\\\"); // so that "\\n" cannot pass for an escaped line break
            continue;
        case u'"':
            out += quoted ? QLatin1String("\\\"") : QLatin1String("\"");
            continue;
        default:
            break;
        }
        if (c < 0x20 || (c >= 0x7f && c < 0xa0))
            out += QStringLiteral("\\x%1").arg(uint(c), 2, 16, QLatin1Char('0'));
        else if (c == 0x2028 || c == 0x2029)
            out += QStringLiteral("\\u%1").arg(uint(c), 4, 16, QLatin1Char('0'));
        else
            out += QChar(c);
    }
}

} // namespace

QString quotedForMessage(QStringView text, qsizetype maxChars) {
    QString out = QStringLiteral("\"");
    appendEscaped(out, text, maxChars, true);
    return out + QLatin1Char('"');
}

QString escapeControlCharacters(QStringView text, qsizetype maxChars) {
    QString out;
    appendEscaped(out, text, maxChars, false);
    return out;
}

std::optional<qint64> integerInRange(double value, qint64 min, qint64 max) {
    // Compared as doubles first: casting a double outside qint64's range is undefined.
    if (!std::isfinite(value) || value != std::trunc(value) || value < double(min) ||
        value > double(max) || std::fabs(value) >= 9.2e18)
        return std::nullopt;
    const qint64 n = static_cast<qint64>(value);
    if (n < min || n > max)
        return std::nullopt;
    return n;
}

} // namespace keepflow
