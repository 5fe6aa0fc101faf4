#include "model/template.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <charconv>
#include <cmath>

namespace keepflow {

namespace {

const QStringList &templateRoots() {
    static const QStringList roots{
        QStringLiteral("params"), QStringLiteral("steps"),           QStringLiteral("item"),
        QStringLiteral("run"),    QStringLiteral("idempotency_key"), QStringLiteral("secrets")};
    return roots;
}

bool isAsciiLetter(QChar c) {
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
           (c >= QLatin1Char('A') && c <= QLatin1Char('Z'));
}
bool isAsciiDigit(QChar c) {
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

bool isIdentifier(QStringView s) {
    if (s.isEmpty() || !(isAsciiLetter(s.front()) || s.front() == QLatin1Char('_')))
        return false;
    for (QChar c : s) {
        if (!(isAsciiLetter(c) || isAsciiDigit(c) || c == QLatin1Char('_') ||
              c == QLatin1Char('-')))
            return false;
    }
    return true;
}

// A non-negative integer without leading zeros ("0", "12"), i.e. an array index.
bool isIndex(QStringView s) {
    if (s.isEmpty() || (s.size() > 1 && s.front() == QLatin1Char('0')))
        return false;
    for (QChar c : s) {
        if (!isAsciiDigit(c))
            return false;
    }
    return true;
}

bool isSpace(QChar c) {
    return c == QLatin1Char(' ') || c == QLatin1Char('\t');
}

QString refText(const TemplateRef &ref) {
    QString s = QStringLiteral("{{") + ref.root;
    for (const QString &seg : ref.path)
        s += QLatin1Char('.') + seg;
    return s + QStringLiteral("}}");
}

QString numberText(double d) {
    // Integers without ".0"; anything else in the shortest form that reads back the same.
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
        return QString::number(static_cast<qint64>(d));
    if (!std::isfinite(d))
        return QString();
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    return QString::fromLatin1(buf, r.ptr - buf);
}

QString valueText(const QJsonValue &v) { // see templateText()
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double:
        if (v.toVariant().typeId() == QMetaType::LongLong)
            return QString::number(v.toInteger());
        return numberText(v.toDouble());
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        break;
    }
    return QString();
}

const char *typeName(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::String:
        return "a string";
    case QJsonValue::Double:
        return "a number";
    case QJsonValue::Bool:
        return "a boolean";
    case QJsonValue::Object:
        return "an object";
    case QJsonValue::Array:
        return "an array";
    case QJsonValue::Null:
        return "null";
    case QJsonValue::Undefined:
        break;
    }
    return "undefined";
}

// Follows path[from...] inside value; where names the part walked so far ("steps.x.output").
Result<QJsonValue> walk(const TemplateRef &ref, QJsonValue value, qsizetype from, QString where) {
    for (qsizetype i = from; i < ref.path.size(); ++i) {
        const QString &seg = ref.path.at(i);
        if (value.isObject()) {
            const QJsonObject o = value.toObject();
            const auto it = o.constFind(seg);
            if (it == o.constEnd())
                return Status::error(QStringLiteral("template %1: \"%2\" not found in %3")
                                         .arg(refText(ref), seg, where));
            value = *it;
        } else if (value.isArray() && isIndex(seg)) {
            const QJsonArray a = value.toArray();
            bool ok = false;
            const qsizetype index = seg.toLongLong(&ok);
            if (!ok || index >= a.size())
                return Status::error(
                    QStringLiteral("template %1: index %2 not found in %3 (it has %4 elements)")
                        .arg(refText(ref), seg, where)
                        .arg(a.size()));
            value = a.at(index);
        } else {
            return Status::error(
                QStringLiteral("template %1: \"%2\" not found in %3: it is %4")
                    .arg(refText(ref), seg, where, QLatin1String(typeName(value))));
        }
        where += QLatin1Char('.') + seg;
    }
    return value;
}

Result<QJsonValue> resolve(const TemplateRef &ref, const TemplateScope &scope) {
    const QString root = ref.root;
    if (root == QLatin1String("params"))
        return walk(ref, scope.params, 0, root);
    if (root == QLatin1String("steps")) {
        if (ref.path.isEmpty())
            return Status::error(QStringLiteral("template %1: name a step, as in steps.ID.output")
                                     .arg(refText(ref)));
        const QString &id = ref.path.at(0);
        const auto it = scope.stepOutputs.constFind(id);
        if (it == scope.stepOutputs.constEnd())
            return Status::error(
                QStringLiteral("template %1: step \"%2\" has no output").arg(refText(ref), id));
        if (ref.path.size() < 2 || ref.path.at(1) != QLatin1String("output"))
            return Status::error(
                QStringLiteral("template %1: use steps.%2.output to read the step's output")
                    .arg(refText(ref), id));
        return walk(ref, *it, 2, QStringLiteral("steps.%1.output").arg(id));
    }
    if (root == QLatin1String("item")) {
        if (!scope.item)
            return Status::error(
                QStringLiteral("template %1: there is no item (the step has no foreach)")
                    .arg(refText(ref)));
        return walk(ref, *scope.item, 0, root);
    }
    if (root == QLatin1String("run")) {
        if (ref.path != QStringList{QStringLiteral("id")})
            return Status::error(
                QStringLiteral("template %1: only {{run.id}} is available").arg(refText(ref)));
        return QJsonValue(scope.runId);
    }
    if (root == QLatin1String("idempotency_key")) {
        if (!ref.path.isEmpty())
            return Status::error(
                QStringLiteral("template %1: idempotency_key is a string and has no parts")
                    .arg(refText(ref)));
        return QJsonValue(scope.idempotencyKey);
    }
    if (root == QLatin1String("secrets")) {
        if (ref.path.size() != 1)
            return Status::error(
                QStringLiteral("template %1: name one secret, as in {{secrets.NAME}}")
                    .arg(refText(ref)));
        if (!scope.secret)
            return Status::error(
                QStringLiteral("template %1: secrets cannot be used here").arg(refText(ref)));
        const Result<QString> value = scope.secret(ref.path.at(0));
        if (!value)
            return Status::error(
                QStringLiteral("template %1: %2").arg(refText(ref), value.error()));
        return QJsonValue(*value);
    }
    return Status::error(QStringLiteral("template %1: unknown root").arg(refText(ref)));
}

Result<QJsonValue> renderString(const QString &text, const TemplateScope &scope) {
    if (!hasTemplate(text))
        return QJsonValue(text);
    const Result<QList<TemplateRef>> refs = parseTemplates(text);
    if (!refs)
        return refs.status();
    if (refs->size() == 1 && refs->at(0).offset == 0 && refs->at(0).length == text.size())
        return resolve(refs->at(0), scope);
    QString out;
    int pos = 0;
    for (const TemplateRef &ref : *refs) {
        out += QStringView(text).mid(pos, ref.offset - pos);
        const Result<QJsonValue> v = resolve(ref, scope);
        if (!v)
            return v.status();
        out += valueText(*v);
        pos = ref.offset + ref.length;
    }
    out += QStringView(text).mid(pos);
    return QJsonValue(out);
}

Result<QJsonValue> renderValue(const QJsonValue &value, const TemplateScope &scope) {
    if (value.isString())
        return renderString(value.toString(), scope);
    if (value.isObject()) {
        QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            Result<QJsonValue> v = renderValue(it.value(), scope);
            if (!v)
                return v;
            it.value() = *v;
        }
        return QJsonValue(o);
    }
    if (value.isArray()) {
        QJsonArray a = value.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            Result<QJsonValue> v = renderValue(a.at(i), scope);
            if (!v)
                return v;
            a.replace(i, *v);
        }
        return QJsonValue(a);
    }
    return value;
}

} // namespace

bool hasTemplate(const QString &text) {
    return text.contains(QLatin1String("{{"));
}

Result<QList<TemplateRef>> parseTemplates(const QString &text) {
    QList<TemplateRef> refs;
    qsizetype pos = 0;
    while (true) {
        const qsizetype open = text.indexOf(QLatin1String("{{"), pos);
        if (open < 0)
            break;
        const qsizetype close = text.indexOf(QLatin1String("}}"), open + 2);
        if (close < 0)
            return Status::error(
                QStringLiteral("template at offset %1: \"{{\" is not closed by \"}}\"").arg(open));
        QStringView inner = QStringView(text).mid(open + 2, close - open - 2);
        while (!inner.isEmpty() && isSpace(inner.front()))
            inner = inner.mid(1);
        while (!inner.isEmpty() && isSpace(inner.back()))
            inner.chop(1);
        if (inner.isEmpty())
            return Status::error(QStringLiteral("template at offset %1: empty template").arg(open));
        const QList<QStringView> segments = inner.split(QLatin1Char('.'));
        TemplateRef ref;
        ref.root = segments.front().toString();
        if (!templateRoots().contains(ref.root))
            return Status::error(QStringLiteral("template at offset %1: unknown root \"%2\": use "
                                                "params, steps, item, run, idempotency_key or "
                                                "secrets")
                                     .arg(open)
                                     .arg(ref.root));
        for (qsizetype i = 1; i < segments.size(); ++i) {
            const QStringView seg = segments.at(i);
            if (seg.isEmpty())
                return Status::error(QStringLiteral("template at offset %1: empty part in \"%2\"")
                                         .arg(open)
                                         .arg(inner));
            if (!isIdentifier(seg) && !isIndex(seg))
                return Status::error(QStringLiteral("template at offset %1: bad part \"%2\": use "
                                                    "names (letters, digits, _ and -) or array "
                                                    "indexes")
                                         .arg(open)
                                         .arg(seg));
            ref.path.append(seg.toString());
        }
        ref.offset = int(open);
        ref.length = int(close + 2 - open);
        refs.append(ref);
        pos = close + 2;
    }
    return refs;
}

Result<QJsonValue> renderTemplates(const QJsonValue &value, const TemplateScope &scope) {
    return renderValue(value, scope);
}

Result<QJsonValue> resolveTemplate(const TemplateRef &ref, const TemplateScope &scope) {
    return resolve(ref, scope);
}

QString templateText(const QJsonValue &value) {
    return valueText(value);
}

} // namespace keepflow
