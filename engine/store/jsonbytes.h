#pragma once

// JSON text for the store's columns and for the JSON parameters of PostgreSQL's batch
// statements, written straight into bytes (the commit path is hot: no QJsonDocument).

#include <QByteArray>
#include <QJsonValue>
#include <QString>

namespace keepflow {

/// Compact JSON, as QJsonDocument writes it, appended to out.
void appendJson(QByteArray &out, const QJsonValue &value);
/// text as a JSON string literal, appended to out.
void appendJsonString(QByteArray &out, const QString &text);
/// Compact JSON text of any value (objects, arrays and scalars); empty for undefined.
QByteArray jsonBytes(const QJsonValue &value);

} // namespace keepflow
