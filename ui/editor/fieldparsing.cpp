#include "fieldparsing.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>

#include <cmath>
#include <limits>

namespace keepflow::ui {

namespace {

const QString kDurationHint = QStringLiteral("a duration such as 250ms, 10s, 5m, 2h or 1d");

QString numberText(double value) {
    return QString::number(value, 'g', 15);
}

} // namespace

Result<QJsonValue> parseIntegerText(const QString &text, qint64 min, qint64 max) {
    const QString t = text.trimmed();
    if (t.isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    bool ok = false;
    const qint64 n = t.toLongLong(&ok);
    if (!ok || n < min || n > max)
        return Status::error(
            max == std::numeric_limits<int>::max()
                ? QStringLiteral("\"%1\" is not a whole number of at least %2").arg(t).arg(min)
                : QStringLiteral("\"%1\" is not a whole number from %2 to %3")
                      .arg(t)
                      .arg(min)
                      .arg(max));
    return QJsonValue(static_cast<double>(n));
}

Result<QJsonValue> parseNumberText(const QString &text, double min, double max) {
    const QString t = text.trimmed();
    if (t.isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    bool ok = false;
    const double d = t.toDouble(&ok);
    if (!ok || !std::isfinite(d) || d < min || d > max) {
        if (std::isinf(max))
            return Status::error(
                QStringLiteral("\"%1\" is not a number of at least %2").arg(t, numberText(min)));
        return Status::error(QStringLiteral("\"%1\" is not a number from %2 to %3")
                                 .arg(t, numberText(min), numberText(max)));
    }
    return QJsonValue(d);
}

Result<QJsonValue> parseDurationText(const QString &text) {
    const QString t = text.trimmed();
    if (t.isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    if (!parseDurationMs(t))
        return Status::error(QStringLiteral("\"%1\" is not %2").arg(t, kDurationHint));
    return QJsonValue(t);
}

Result<QJsonValue> parseJsonText(const QString &text) {
    if (text.trimmed().isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    // QJsonDocument reads only objects and arrays: wrapping the text admits scalars too.
    QJsonParseError error{};
    const QByteArray wrapped = "[" + text.toUtf8() + "\n]";
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &error);
    if (error.error != QJsonParseError::NoError)
        return Status::error(QStringLiteral("not JSON: %1 at character %2")
                                 .arg(error.errorString())
                                 .arg(qMax(1, error.offset)));
    const QJsonArray array = doc.array();
    if (array.size() != 1)
        return Status::error(QStringLiteral("not JSON: expected exactly one value"));
    return array.at(0);
}

QJsonArray parseListText(const QString &text) {
    QJsonArray list;
    const QStringList parts = text.split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        const QString t = part.trimmed();
        if (t.isEmpty())
            continue;
        bool ok = false;
        const int n = t.toInt(&ok);
        if (ok)
            list.append(n);
        else
            list.append(t);
    }
    return list;
}

QString valueText(const QJsonValue &value) {
    if (value.isUndefined() || value.isNull())
        return {};
    if (value.isString())
        return value.toString();
    if (value.isDouble())
        return numberText(value.toDouble());
    if (value.isBool())
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return jsonText(value, false);
}

QString jsonText(const QJsonValue &value, bool indented) {
    if (value.isUndefined())
        return {};
    const auto format = indented ? QJsonDocument::Indented : QJsonDocument::Compact;
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(format)).trimmed();
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(format)).trimmed();
    // A scalar: the one element of a compact array, without the brackets.
    const QString text =
        QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
    return text.mid(1, text.size() - 2);
}

QString listText(const QJsonArray &list) {
    QStringList parts;
    for (const QJsonValue &v : list)
        parts.append(valueText(v));
    return parts.join(QStringLiteral(", "));
}

QString durationText(const std::optional<Duration> &duration) {
    if (!duration)
        return {};
    return duration->text.isEmpty() ? formatDuration(duration->ms) : duration->text;
}

Duration durationFromText(const QString &text) {
    const QString t = text.trimmed();
    return Duration{parseDurationMs(t).value_or(0), t};
}

const QList<RetryField> &retryFields() {
    static const QList<RetryField> fields{
        {QStringLiteral("max_attempts"), QStringLiteral("Max attempts")},
        {QStringLiteral("initial_interval"), QStringLiteral("Initial interval")},
        {QStringLiteral("backoff"), QStringLiteral("Backoff")},
        {QStringLiteral("max_interval"), QStringLiteral("Max interval")},
        {QStringLiteral("jitter"), QStringLiteral("Jitter")},
        {QStringLiteral("non_retryable"), QStringLiteral("Non-retryable errors")},
    };
    return fields;
}

QString retryPlaceholder(const RetryPolicy &policy, const QString &key) {
    QString value;
    if (key == QLatin1String("max_attempts"))
        value = QString::number(policy.maxAttempts);
    else if (key == QLatin1String("initial_interval"))
        value = formatDuration(policy.initialIntervalMs);
    else if (key == QLatin1String("backoff"))
        value = numberText(policy.backoff);
    else if (key == QLatin1String("max_interval"))
        value = formatDuration(policy.maxIntervalMs);
    else if (key == QLatin1String("jitter"))
        value = numberText(policy.jitter);
    else if (key == QLatin1String("non_retryable"))
        value = policy.nonRetryable.join(QStringLiteral(", "));
    return QStringLiteral("%1 (default)").arg(value);
}

Result<QJsonValue> parseRetryText(const QString &key, const QString &text) {
    if (key == QLatin1String("max_attempts"))
        return parseIntegerText(text, 1, std::numeric_limits<int>::max());
    if (key == QLatin1String("initial_interval") || key == QLatin1String("max_interval"))
        return parseDurationText(text);
    if (key == QLatin1String("backoff"))
        return parseNumberText(text, 1.0, std::numeric_limits<double>::infinity());
    if (key == QLatin1String("jitter"))
        return parseNumberText(text, 0.0, 1.0);
    if (key == QLatin1String("non_retryable")) {
        if (text.trimmed().isEmpty())
            return QJsonValue(QJsonValue::Undefined);
        return QJsonValue(parseListText(text));
    }
    return Status::error(QStringLiteral("unknown retry key \"%1\"").arg(key));
}

void setLineText(QLineEdit *edit, const QString &text) {
    if (edit->text() != text)
        edit->setText(text);
}

} // namespace keepflow::ui
