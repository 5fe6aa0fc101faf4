#include "model/jsonpositions.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QVarLengthArray>

#include <algorithm>

#include <charconv>
#include <cmath>
#include <cstdint>

namespace keepflow {

namespace {

// Deep enough for any flow, shallow enough that recursion cannot exhaust the stack.
constexpr int kMaxDepth = 512;

bool isJsonWhitespace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_';
}

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/// The keys of one object seen so far: a short list searched in place, a hash set once the
/// object is large, so that a hostile object with many keys stays linear.
class DuplicateKeys {
public:
    /// False when key was seen before.
    bool insert(const QString &key) {
        if (m_large.isEmpty() && m_small.size() < kSmall) {
            if (std::find(m_small.cbegin(), m_small.cend(), key) != m_small.cend())
                return false;
            m_small.push_back(key);
            return true;
        }
        if (m_large.isEmpty())
            m_large = QSet<QString>(m_small.cbegin(), m_small.cend());
        if (m_large.contains(key))
            return false;
        m_large.insert(key);
        return true;
    }

private:
    static constexpr qsizetype kSmall = 16;
    QVarLengthArray<QString, kSmall> m_small;
    QSet<QString> m_large;
};

class Parser {
public:
    /// What a parse produces besides the verdict: the values, and their positions on top.
    enum class Output { CheckOnly, Values, ValuesAndPositions };

    Parser(const QByteArray &text, PositionedJson &out, Output output)
        : m_data(text.constData())
        , m_size(text.size())
        , m_out(out)
        , m_buildValues(output != Output::CheckOnly)
        , m_recordPositions(output == Output::ValuesAndPositions) {
        // RFC 8259 lets a parser ignore a byte order mark; editors on Windows add one.
        if (m_size >= 3 && text.startsWith("\xEF\xBB\xBF")) {
            m_pos = 3;
            m_bomSize = 3;
        }
        m_cursorOffset = m_bomSize;
    }

    bool parseDocument() {
        skipWhitespace();
        if (!parseValue(QString(), m_out.value))
            return false;
        skipWhitespace();
        if (m_pos < m_size)
            return fail(m_pos, QStringLiteral("unexpected %1 after the JSON value: a file holds "
                                              "one value")
                                   .arg(describeCharAt(m_pos)));
        return true;
    }

    TextPosition errorPosition() { return positionOf(m_errorOffset); }
    const QString &errorMessage() const { return m_error; }

private:
    bool atEnd() const { return m_pos >= m_size; }
    char peek() const { return m_pos < m_size ? m_data[m_pos] : '\0'; }

    void skipWhitespace() {
        while (m_pos < m_size && isJsonWhitespace(m_data[m_pos]))
            ++m_pos;
    }

    bool fail(qsizetype offset, const QString &message) {
        if (m_error.isEmpty()) {
            m_error = message;
            m_errorOffset = offset;
        }
        return false;
    }

    // Positions are asked for in increasing offsets, so one forward-moving cursor keeps the
    // whole parse linear even for a long single-line file.
    TextPosition positionOf(qsizetype offset) {
        if (offset < m_cursorOffset) {
            m_cursorOffset = m_bomSize;
            m_cursorLine = 1;
            m_cursorColumn = 1;
        }
        while (m_cursorOffset < offset && m_cursorOffset < m_size) {
            const auto c = static_cast<unsigned char>(m_data[m_cursorOffset]);
            if (c == '\n') {
                ++m_cursorLine;
                m_cursorColumn = 1;
            } else if (c == '\r') {
                // CR LF: the LF ends the line. A lone CR ends it by itself.
                if (!(m_cursorOffset + 1 < m_size && m_data[m_cursorOffset + 1] == '\n')) {
                    ++m_cursorLine;
                    m_cursorColumn = 1;
                }
            } else if ((c & 0xC0) != 0x80) {
                ++m_cursorColumn; // count code points, not UTF-8 continuation bytes
            }
            ++m_cursorOffset;
        }
        return {m_cursorLine, m_cursorColumn};
    }

    // Length of the valid UTF-8 sequence at offset, or 0 when it is invalid.
    qsizetype utf8SequenceLength(qsizetype offset, char32_t *codePoint) const {
        const auto b0 = static_cast<unsigned char>(m_data[offset]);
        auto byteAt = [&](qsizetype i) -> int {
            return offset + i < m_size ? static_cast<unsigned char>(m_data[offset + i]) : -1;
        };
        auto isCont = [](int b) { return b >= 0x80 && b <= 0xBF; };
        if (b0 < 0x80) {
            *codePoint = b0;
            return 1;
        }
        int len = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            if (b0 == 0xE0)
                lo = 0xA0; // no overlong forms
            if (b0 == 0xED)
                hi = 0x9F; // no surrogates
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            if (b0 == 0xF0)
                lo = 0x90;
            if (b0 == 0xF4)
                hi = 0x8F; // nothing above U+10FFFF
        } else {
            return 0;
        }
        const int b1 = byteAt(1);
        if (b1 < lo || b1 > hi)
            return 0;
        char32_t cp = b0 & (0xFF >> (len + 1));
        cp = (cp << 6) | (b1 & 0x3F);
        for (int i = 2; i < len; ++i) {
            const int b = byteAt(i);
            if (!isCont(b))
                return 0;
            cp = (cp << 6) | (b & 0x3F);
        }
        *codePoint = cp;
        return len;
    }

    QString describeCharAt(qsizetype offset) const {
        if (offset >= m_size)
            return QStringLiteral("end of file");
        char32_t cp = 0;
        if (utf8SequenceLength(offset, &cp) == 0)
            return QStringLiteral("byte 0x%1 (not UTF-8)")
                .arg(static_cast<unsigned char>(m_data[offset]), 2, 16, QLatin1Char('0'));
        if (cp < 0x20 || cp == 0x7F)
            return QStringLiteral("character U+%1").arg(uint(cp), 4, 16, QLatin1Char('0'));
        return QStringLiteral("'%1'").arg(QString::fromUcs4(&cp, 1));
    }

    bool parseValue(const QString &pointer, QJsonValue &out) {
        if (atEnd())
            return fail(m_pos, QStringLiteral("unexpected end of file: expected a JSON value"));
        if (m_recordPositions)
            m_out.valuePositions.insert(pointer, positionOf(m_pos));
        const char c = peek();
        switch (c) {
        case '{':
            return parseObject(pointer, out);
        case '[':
            return parseArray(pointer, out);
        case '"': {
            QString s;
            if (!parseString(m_buildValues ? &s : nullptr))
                return false;
            if (m_buildValues)
                out = s;
            return true;
        }
        case '\'':
            return fail(m_pos, QStringLiteral("strings must be in double quotes"));
        default:
            break;
        }
        if (c == '-' || isDigit(c))
            return parseNumber(out);
        if (isWordChar(c))
            return parseWord(out);
        return fail(
            m_pos,
            QStringLiteral("unexpected %1: expected a JSON value").arg(describeCharAt(m_pos)));
    }

    bool parseWord(QJsonValue &out) {
        const qsizetype start = m_pos;
        qsizetype end = m_pos;
        while (end < m_size && isWordChar(m_data[end]))
            ++end;
        const QByteArray word(m_data + start, end - start);
        if (word == "true")
            out = true;
        else if (word == "false")
            out = false;
        else if (word == "null")
            out = QJsonValue(QJsonValue::Null);
        else
            return fail(start, QStringLiteral("unexpected word \"%1\": expected a JSON value "
                                              "(strings need double quotes; literals are true, "
                                              "false and null)")
                                   .arg(QString::fromLatin1(word)));
        m_pos = end;
        return true;
    }

    bool parseNumber(QJsonValue &out) {
        const qsizetype start = m_pos;
        bool integral = true;
        if (peek() == '-')
            ++m_pos;
        if (!isDigit(peek()))
            return fail(m_pos, QStringLiteral("invalid number: expected a digit after '-'"));
        if (peek() == '0') {
            ++m_pos;
            if (isDigit(peek()))
                return fail(start, QStringLiteral("invalid number: leading zeros are not allowed"));
        } else {
            while (isDigit(peek()))
                ++m_pos;
        }
        if (peek() == '.') {
            integral = false;
            ++m_pos;
            if (!isDigit(peek()))
                return fail(m_pos, QStringLiteral("invalid number: expected a digit after '.'"));
            while (isDigit(peek()))
                ++m_pos;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++m_pos;
            if (peek() == '+' || peek() == '-')
                ++m_pos;
            if (!isDigit(peek()))
                return fail(m_pos, QStringLiteral("invalid number: expected a digit in the "
                                                  "exponent"));
            while (isDigit(peek()))
                ++m_pos;
        }
        const char *first = m_data + start;
        const char *last = m_data + m_pos;
        if (integral) {
            qint64 v = 0;
            const auto r = std::from_chars(first, last, v);
            if (r.ec == std::errc() && r.ptr == last) {
                out = QJsonValue(v);
                return true;
            }
            // Too large for 64 bits: fall through and keep it as a double, as JSON allows.
        }
        double d = 0;
        const auto r = std::from_chars(first, last, d);
        if (r.ec != std::errc() || r.ptr != last)
            return fail(start, QStringLiteral("number out of range"));
        // Qt's own reader keeps a whole number written as a double ("2e18") as a 64-bit integer
        // when it fits; so does this one, or the two readers would give different values.
        constexpr double twoToThe63 = 9223372036854775808.0;
        if (std::trunc(d) == d && d >= -twoToThe63 && d < twoToThe63) {
            out = QJsonValue(static_cast<qint64>(d));
            return true;
        }
        out = QJsonValue(d);
        return true;
    }

    /// Reads a string into out, or only checks it when out is null.
    bool parseString(QString *out) {
        const qsizetype open = m_pos;
        ++m_pos; // the opening quote
        QString unused;
        QString &text = out ? *out : unused;
        text.clear();
        // Plain text is appended a run at a time; only escapes are decoded one by one.
        qsizetype runStart = m_pos;
        auto appendRun = [&] {
            if (out && m_pos > runStart)
                text.append(QString::fromUtf8(m_data + runStart, m_pos - runStart));
        };
        while (true) {
            if (atEnd())
                return fail(open, QStringLiteral("unterminated string"));
            const auto c = static_cast<unsigned char>(m_data[m_pos]);
            if (c == '"') {
                appendRun();
                ++m_pos;
                return true;
            }
            if (c == '\\') {
                appendRun();
                if (!parseEscape(text))
                    return false;
                runStart = m_pos;
                continue;
            }
            if (c == '\n' || c == '\r')
                return fail(open, QStringLiteral("unterminated string (write a line break inside "
                                                 "a string as \\n)"));
            if (c < 0x20)
                return fail(
                    m_pos,
                    QStringLiteral("%1 must be escaped in a string").arg(describeCharAt(m_pos)));
            if (c < 0x80) {
                ++m_pos;
                continue;
            }
            char32_t cp = 0;
            const qsizetype len = utf8SequenceLength(m_pos, &cp);
            if (len == 0)
                return fail(m_pos, QStringLiteral("invalid UTF-8 byte 0x%1 in string")
                                       .arg(c, 2, 16, QLatin1Char('0')));
            m_pos += len;
        }
    }

    bool readHex4(qsizetype at, char16_t *unit) const {
        if (at + 4 > m_size)
            return false;
        int v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hexValue(m_data[at + i]);
            if (h < 0)
                return false;
            v = v * 16 + h;
        }
        *unit = static_cast<char16_t>(v);
        return true;
    }

    bool parseEscape(QString &out) {
        const qsizetype backslash = m_pos;
        if (backslash + 1 >= m_size)
            return fail(backslash, QStringLiteral("unterminated string"));
        const char e = m_data[backslash + 1];
        m_pos += 2;
        switch (e) {
        case '"':
            out.append(QLatin1Char('"'));
            return true;
        case '\\':
            out.append(QLatin1Char('\\'));
            return true;
        case '/':
            out.append(QLatin1Char('/'));
            return true;
        case 'b':
            out.append(QLatin1Char('\b'));
            return true;
        case 'f':
            out.append(QLatin1Char('\f'));
            return true;
        case 'n':
            out.append(QLatin1Char('\n'));
            return true;
        case 'r':
            out.append(QLatin1Char('\r'));
            return true;
        case 't':
            out.append(QLatin1Char('\t'));
            return true;
        case 'u':
            break;
        default:
            return fail(
                backslash,
                QStringLiteral("invalid escape \"\\%1\" in string").arg(QString::fromUtf8(&e, 1)));
        }
        char16_t unit = 0;
        if (!readHex4(m_pos, &unit))
            return fail(backslash, QStringLiteral("invalid \\u escape: expected four hex digits"));
        m_pos += 4;
        if (QChar::isLowSurrogate(unit))
            return fail(backslash, QStringLiteral("invalid \\u escape: unpaired surrogate"));
        if (QChar::isHighSurrogate(unit)) {
            char16_t low = 0;
            if (m_pos + 1 < m_size && m_data[m_pos] == '\\' && m_data[m_pos + 1] == 'u' &&
                readHex4(m_pos + 2, &low) && QChar::isLowSurrogate(low)) {
                m_pos += 6;
                out.append(QChar(unit));
                out.append(QChar(low));
                return true;
            }
            return fail(backslash, QStringLiteral("invalid \\u escape: unpaired surrogate"));
        }
        out.append(QChar(unit));
        return true;
    }

    bool enter(qsizetype offset) {
        if (++m_depth > kMaxDepth)
            return fail(offset,
                        QStringLiteral("nesting too deep (more than %1 levels)").arg(kMaxDepth));
        return true;
    }

    bool parseObject(const QString &pointer, QJsonValue &out) {
        if (!enter(m_pos))
            return false;
        ++m_pos; // '{'
        QJsonObject object;
        DuplicateKeys seenKeys; // when only checking: object is not filled
        skipWhitespace();
        if (peek() == '}') {
            ++m_pos;
            --m_depth;
            out = object;
            return true;
        }
        while (true) {
            if (peek() != '"') {
                if (atEnd())
                    return fail(m_pos, QStringLiteral("unexpected end of file: expected a string "
                                                      "key or '}'"));
                if (peek() == '}')
                    return fail(m_pos, QStringLiteral("trailing comma before '}'"));
                if (isWordChar(peek()) || peek() == '\'')
                    return fail(m_pos, QStringLiteral("object keys must be strings in double "
                                                      "quotes"));
                return fail(m_pos, QStringLiteral("unexpected %1: expected a string key or '}'")
                                       .arg(describeCharAt(m_pos)));
            }
            const qsizetype keyOffset = m_pos;
            QString key;
            if (!parseString(&key))
                return false;
            if (m_buildValues ? object.contains(key) : !seenKeys.insert(key))
                return fail(keyOffset, QStringLiteral("duplicate key \"%1\"").arg(key));
            QString child;
            if (m_recordPositions) {
                child = pointer + QLatin1Char('/') + escapeJsonPointerToken(key);
                m_out.keyPositions.insert(child, positionOf(keyOffset));
            }
            skipWhitespace();
            if (peek() != ':')
                return fail(m_pos, QStringLiteral("expected ':' after object key \"%1\"").arg(key));
            ++m_pos;
            skipWhitespace();
            QJsonValue value;
            if (!parseValue(child, value))
                return false;
            if (m_buildValues)
                object.insert(key, value);
            skipWhitespace();
            if (peek() == ',') {
                ++m_pos;
                skipWhitespace();
                continue;
            }
            if (peek() == '}') {
                ++m_pos;
                break;
            }
            if (atEnd())
                return fail(m_pos, QStringLiteral("unexpected end of file: expected ',' or '}' "
                                                  "after object member"));
            return fail(m_pos, QStringLiteral("expected ',' or '}' after object member"));
        }
        --m_depth;
        out = object;
        return true;
    }

    bool parseArray(const QString &pointer, QJsonValue &out) {
        if (!enter(m_pos))
            return false;
        ++m_pos; // '['
        QJsonArray array;
        qsizetype count = 0;
        skipWhitespace();
        if (peek() == ']') {
            ++m_pos;
            --m_depth;
            out = array;
            return true;
        }
        while (true) {
            if (peek() == ']')
                return fail(m_pos, QStringLiteral("trailing comma before ']'"));
            QJsonValue value;
            const QString child =
                m_recordPositions ? pointer + QLatin1Char('/') + QString::number(count) : QString();
            if (!parseValue(child, value))
                return false;
            if (m_buildValues)
                array.append(value);
            ++count;
            skipWhitespace();
            if (peek() == ',') {
                ++m_pos;
                skipWhitespace();
                continue;
            }
            if (peek() == ']') {
                ++m_pos;
                break;
            }
            if (atEnd())
                return fail(m_pos, QStringLiteral("unexpected end of file: expected ',' or ']' "
                                                  "after array element"));
            return fail(m_pos, QStringLiteral("expected ',' or ']' after array element"));
        }
        --m_depth;
        out = array;
        return true;
    }

    const char *m_data;
    qsizetype m_size;
    qsizetype m_pos = 0;
    qsizetype m_bomSize = 0;
    PositionedJson &m_out;
    const bool m_buildValues;
    const bool m_recordPositions;
    int m_depth = 0;

    qsizetype m_cursorOffset = 0;
    int m_cursorLine = 1;
    int m_cursorColumn = 1;

    QString m_error;
    qsizetype m_errorOffset = 0;
};

} // namespace

TextPosition PositionedJson::nearestValuePosition(const QString &pointer) const {
    QString p = pointer;
    while (true) {
        const auto it = valuePositions.constFind(p);
        if (it != valuePositions.cend())
            return *it;
        if (p.isEmpty())
            return {1, 1};
        p = parentJsonPointer(p);
    }
}

JsonParseResult parseJson(const QByteArray &text, JsonPositions positions) {
    if (positions == JsonPositions::NotRecorded) {
        // Qt's parser builds values several times faster than this one can through QJsonValue,
        // but it is laxer (duplicate keys, ...). A document both accept is read by Qt; anything
        // else gets this reader's verdict and message.
        QJsonParseError qtError;
        const QJsonDocument document = QJsonDocument::fromJson(text, &qtError);
        if (qtError.error == QJsonParseError::NoError &&
            (document.isObject() || document.isArray())) {
            JsonParseResult result;
            Parser checker(text, result.json, Parser::Output::CheckOnly);
            result.ok = checker.parseDocument();
            if (result.ok) {
                result.json.value = document.isObject() ? QJsonValue(document.object())
                                                        : QJsonValue(document.array());
            } else {
                result.errorPosition = checker.errorPosition();
                result.errorMessage = checker.errorMessage();
            }
            return result;
        }
    }
    JsonParseResult result;
    Parser parser(text, result.json,
                  positions == JsonPositions::Recorded ? Parser::Output::ValuesAndPositions
                                                       : Parser::Output::Values);
    result.ok = parser.parseDocument();
    if (!result.ok) {
        result.errorPosition = parser.errorPosition();
        result.errorMessage = parser.errorMessage();
        result.json = PositionedJson();
        return result;
    }
    // With positions or without, a document is the same value: Qt's, where Qt reads it (its
    // strings differ from this reader's in corners such as a U+FEFF that starts a key).
    QJsonParseError qtError;
    const QJsonDocument document = QJsonDocument::fromJson(text, &qtError);
    if (qtError.error == QJsonParseError::NoError && (document.isObject() || document.isArray()))
        result.json.value =
            document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
    return result;
}

JsonParseResult parseJsonWithPositions(const QByteArray &text) {
    return parseJson(text, JsonPositions::Recorded);
}

QString escapeJsonPointerToken(const QString &token) {
    if (!token.contains(QLatin1Char('~')) && !token.contains(QLatin1Char('/')))
        return token;
    QString escaped = token;
    escaped.replace(QLatin1Char('~'), QLatin1String("~0"));
    escaped.replace(QLatin1Char('/'), QLatin1String("~1"));
    return escaped;
}

QString parentJsonPointer(const QString &pointer) {
    const qsizetype slash = pointer.lastIndexOf(QLatin1Char('/'));
    return slash <= 0 ? QString() : pointer.left(slash);
}

} // namespace keepflow
