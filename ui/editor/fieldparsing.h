#pragma once

// Text <-> JSON conversions shared by the property editor and the flow settings editor. Every
// parser treats empty text as "key absent" (an undefined QJsonValue) and refuses bad text with a
// message meant to be shown next to the field; nothing here touches the document.

#include "core/status.h"
#include "model/flow.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QList>
#include <QString>

class QLineEdit;

namespace keepflow::ui {

/// An integer in [min, max], or undefined for empty text.
Result<QJsonValue> parseIntegerText(const QString &text, qint64 min, qint64 max);
/// A number in [min, max], or undefined for empty text.
Result<QJsonValue> parseNumberText(const QString &text, double min, double max);
/// A duration string ("250ms", "10s", ...), or undefined for empty text.
Result<QJsonValue> parseDurationText(const QString &text);
/// Any JSON value, scalars included; undefined for empty (or blank) text.
Result<QJsonValue> parseJsonText(const QString &text);
/// A comma-separated list: whole numbers become numbers (HTTP statuses), the rest strings.
QJsonArray parseListText(const QString &text);

/// The value as it is edited: strings bare, numbers without trailing zeros, JSON otherwise.
QString valueText(const QJsonValue &value);
/// JSON text of any value (compact or indented); empty for undefined.
QString jsonText(const QJsonValue &value, bool indented);
/// "permanent, 404"
QString listText(const QJsonArray &list);
/// The duration as written, or formatted from its ms when set in code; empty when absent.
QString durationText(const std::optional<Duration> &duration);
/// The duration for text already checked by parseDurationText().
Duration durationFromText(const QString &text);

/// The retry keys both editors offer, in the order shown.
struct RetryField {
    QString key;   ///< JSON key: "max_attempts", ...
    QString label; ///< visible label and accessible name: "Max attempts", ...
};
const QList<RetryField> &retryFields();
/// The value policy gives key, as placeholder text: "3 (default)".
QString retryPlaceholder(const RetryPolicy &policy, const QString &key);
/// Parses the text of retry field key; undefined for empty text.
Result<QJsonValue> parseRetryText(const QString &key, const QString &text);

/// setText() only when the text differs, so that refreshing keeps the cursor where it is.
void setLineText(QLineEdit *edit, const QString &text);

} // namespace keepflow::ui
