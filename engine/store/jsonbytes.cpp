#include "store/jsonbytes.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QLocale>

#include <cmath>
#include <cstdio>

namespace keepflow {

namespace {

/// The common case: ASCII that needs no escape, appended without converting to UTF-8 first.
/// False (nothing appended) for anything else.
bool appendPlainAscii(QByteArray &out, QStringView text) {
    const char16_t *chars = text.utf16();
    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t c = chars[i];
        if (c < 0x20 || c >= 0x80 || c == u'"' || c == u'\\')
            return false;
    }
    const qsizetype start = out.size();
    out.resize(start + size);
    char *to = out.data() + start;
    for (qsizetype i = 0; i < size; ++i)
        to[i] = static_cast<char>(chars[i]);
    return true;
}

/// QByteArray::number(value), appended without a temporary.
void appendInteger(QByteArray &out, qint64 value) {
    char text[24];
    int at = 24;
    quint64 magnitude = value < 0 ? 0 - static_cast<quint64>(value) : static_cast<quint64>(value);
    do {
        text[--at] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        text[--at] = '-';
    out.append(text + at, 24 - at);
}

} // namespace

void appendJsonString(QByteArray &out, const QString &text) {
    out += '"';
    if (appendPlainAscii(out, text)) {
        out += '"';
        return;
    }
    const QByteArray utf8 = text.toUtf8();
    for (const char c : utf8) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                out += escaped;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

/// Compact JSON, as QJsonDocument writes it, without building a document (hot path).
void appendJson(QByteArray &out, const QJsonValue &value) {
    switch (value.type()) {
    case QJsonValue::Undefined:
    case QJsonValue::Null:
        out += "null";
        return;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        return;
    case QJsonValue::Double: {
        const double number = value.toDouble();
        if (!std::isfinite(number))
            out += "null";
        else if (number == std::trunc(number) && std::fabs(number) < 9007199254740992.0)
            appendInteger(out, static_cast<qint64>(number));
        else
            out += QByteArray::number(number, 'g', QLocale::FloatingPointShortest);
        return;
    }
    case QJsonValue::String:
        appendJsonString(out, value.toString());
        return;
    case QJsonValue::Array: {
        out += '[';
        bool first = true;
        for (const QJsonValue &element : value.toArray()) {
            if (!first)
                out += ',';
            first = false;
            appendJson(out, element);
        }
        out += ']';
        return;
    }
    case QJsonValue::Object: {
        out += '{';
        const QJsonObject object = value.toObject();
        bool first = true;
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!first)
                out += ',';
            first = false;
            appendJsonString(out, it.key());
            out += ':';
            appendJson(out, it.value());
        }
        out += '}';
        return;
    }
    }
}

QByteArray jsonBytes(const QJsonValue &value) {
    if (value.isUndefined())
        return {};
    QByteArray out;
    out.reserve(64);
    appendJson(out, value);
    return out;
}

} // namespace keepflow
