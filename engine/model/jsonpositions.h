#pragma once

// Private to engine/model: a strict JSON reader (RFC 8259, UTF-8) that also tells where each
// value starts, because QJsonDocument reports no positions and flow diagnostics need them.

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QString>

namespace keepflow {

/// 1-based line and column. Columns count characters (Unicode code points), so a tab or an "é"
/// is one column; a CR LF or a lone CR ends a line like LF does.
struct TextPosition {
    int line = 0;
    int column = 0;
    bool isValid() const { return line > 0; }
};

/// A parsed document and where its parts are, keyed by JSON pointer ("" is the root,
/// "/steps/2/after/0" an array element; "~" and "/" in keys escaped as "~0" and "~1").
struct PositionedJson {
    QJsonValue value;
    QHash<QString, TextPosition> valuePositions; ///< first character of each value
    QHash<QString, TextPosition> keyPositions;   ///< opening quote of each object member's key

    /// The position of the value at pointer, else of its nearest ancestor present, else 1:1.
    TextPosition nearestValuePosition(const QString &pointer) const;
};

/// The outcome of parseJsonWithPositions: either json or error, errorPosition and errorMessage
/// (e.g. "expected ',' or '}' after object member").
struct JsonParseResult {
    PositionedJson json;
    bool ok = false;
    TextPosition errorPosition;
    QString errorMessage;
};

/// Whether a parse records where each value and key is. Recording costs a JSON pointer and two
/// hash entries per value, several times the parse itself, so a flow is read without them and
/// read again with them only when there is a problem to point at. Without positions, a
/// document is checked by this reader and its values are built by QJsonDocument (faster).
enum class JsonPositions { Recorded, NotRecorded };

/// Parses one JSON text (a leading UTF-8 byte order mark is ignored). Strict: no comments, no
/// trailing commas, no duplicate keys, no unescaped control characters, valid UTF-8 only. A
/// syntax error has its position either way.
JsonParseResult parseJson(const QByteArray &text, JsonPositions positions);
/// parseJson(text, JsonPositions::Recorded).
JsonParseResult parseJsonWithPositions(const QByteArray &text);

/// Escapes one reference token of a JSON pointer (RFC 6901): "~" -> "~0", "/" -> "~1".
QString escapeJsonPointerToken(const QString &token);
/// The parent of a JSON pointer ("/a/b" -> "/a", "/a" -> ""); the root has none (returns "").
QString parentJsonPointer(const QString &pointer);

} // namespace keepflow
