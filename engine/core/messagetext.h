#pragma once

// Quoting user-controlled text (a header, a URL, a program name, an SQL statement) inside an error
// message: the message goes to logs and terminals, so a CR/LF or an escape sequence in the value
// must not forge lines or control the terminal there.

#include <QString>
#include <QStringView>

#include <optional>

namespace keepflow {

/// text in double quotes with control characters (C0, DEL, C1, U+2028/2029) written as \r, \n,
/// \t or \xNN / \uNNNN, a backslash and a quote escaped, cut after maxChars characters ("…").
QString quotedForMessage(QStringView text, qsizetype maxChars = 200);
/// The same escaping without the quotes, for text that reads better bare ("GET URL").
QString escapeControlCharacters(QStringView text, qsizetype maxChars = 200);

/// A JSON number converted to an integer without undefined behaviour: nullopt unless it is finite,
/// whole and within [min, max].
std::optional<qint64> integerInRange(double value, qint64 min, qint64 max);

} // namespace keepflow
