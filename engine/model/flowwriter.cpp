// serializeFlow(): the canonical flow file text.
// Deterministic so that saving an unchanged flow changes no byte, and shaped for readable diffs:
// small arrays and objects of scalars stay on one line.

#include "model/flowfile.h"
#include "model/flowvalidation.h"

#include <QJsonArray>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace keepflow {

namespace {

constexpr qsizetype kLineLimit = 100;
constexpr int kIndent = 2;

// A JSON value whose object members keep the order they were added in.
struct Node {
    enum class Kind { Scalar, Object, Array };
    Kind kind = Kind::Scalar;
    QJsonValue scalar;
    QList<std::pair<QString, Node>> members;
    QList<Node> items;
    bool expand = false; ///< always one member per line (the root and each step)

    static Node object() { return Node{Kind::Object, {}, {}, {}, false}; }
    static Node array() { return Node{Kind::Array, {}, {}, {}, false}; }

    void add(const QString &key, Node value) { members.append({key, std::move(value)}); }
    void add(const QString &key, const QJsonValue &value) { add(key, fromJson(value)); }

    bool isScalar() const { return kind == Kind::Scalar; }
    // {} and [] read as one token, so they may sit inside a one-line object or array.
    bool isAtom() const { return isScalar() || (members.isEmpty() && items.isEmpty()); }

    // QJsonObject iterates its keys sorted, which is the order other objects are written in.
    static Node fromJson(const QJsonValue &v) {
        if (v.isObject()) {
            Node n = object();
            const QJsonObject o = v.toObject();
            for (auto it = o.begin(); it != o.end(); ++it)
                n.add(it.key(), fromJson(it.value()));
            return n;
        }
        if (v.isArray()) {
            Node n = array();
            for (const QJsonValue &e : v.toArray())
                n.items.append(fromJson(e));
            return n;
        }
        Node n;
        n.scalar = v;
        return n;
    }
};

void appendString(QByteArray &out, const QString &s) {
    out.append('"');
    const QByteArray utf8 = s.toUtf8();
    for (const char c : utf8) {
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\b':
            out.append("\\b");
            break;
        case '\f':
            out.append("\\f");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
                out.append(buf);
            } else {
                out.append(c); // non-ASCII stays UTF-8
            }
        }
    }
    out.append('"');
}

void appendNumber(QByteArray &out, const QJsonValue &v) {
    if (v.toVariant().typeId() == QMetaType::LongLong) {
        out.append(QByteArray::number(v.toInteger()));
        return;
    }
    const double d = v.toDouble();
    if (!std::isfinite(d)) {
        out.append("null"); // JSON has no NaN or infinity
        return;
    }
    if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) {
        out.append(QByteArray::number(static_cast<qint64>(d)));
        return;
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d); // shortest text that reads back
    out.append(buf, r.ptr - buf);
}

void appendScalar(QByteArray &out, const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::String:
        appendString(out, v.toString());
        break;
    case QJsonValue::Double:
        appendNumber(out, v);
        break;
    case QJsonValue::Bool:
        out.append(v.toBool() ? "true" : "false");
        break;
    default:
        out.append("null");
        break;
    }
}

// Columns are characters, not bytes, so that "é" does not push a line over the limit early.
qsizetype displayWidth(const QByteArray &utf8) {
    qsizetype n = 0;
    for (const char c : utf8) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++n;
    }
    return n;
}

bool allScalars(const Node &n) {
    for (const auto &m : n.members) {
        if (!m.second.isAtom())
            return false;
    }
    for (const Node &i : n.items) {
        if (!i.isAtom())
            return false;
    }
    return true;
}

void appendAtom(QByteArray &out, const Node &n) {
    if (n.isScalar())
        appendScalar(out, n.scalar);
    else
        out.append(n.kind == Node::Kind::Object ? "{}" : "[]");
}

// One line: { "x": 0, "y": 0 } or ["sh", "-c", "exit 1"]. Only for nodes of atoms.
QByteArray oneLine(const Node &n) {
    QByteArray out;
    if (n.kind == Node::Kind::Object) {
        if (n.members.isEmpty())
            return "{}";
        out.append("{ ");
        for (qsizetype i = 0; i < n.members.size(); ++i) {
            if (i > 0)
                out.append(", ");
            appendString(out, n.members.at(i).first);
            out.append(": ");
            appendAtom(out, n.members.at(i).second);
        }
        out.append(" }");
        return out;
    }
    out.append('[');
    for (qsizetype i = 0; i < n.items.size(); ++i) {
        if (i > 0)
            out.append(", ");
        appendAtom(out, n.items.at(i));
    }
    out.append(']');
    return out;
}

class Writer {
public:
    QByteArray take() { return std::move(m_out); }

    // Writes one line's worth starting with prefix (indentation and key), then value.
    void writeEntry(const QByteArray &prefix, const Node &value, int indent, bool last) {
        m_out.append(prefix);
        if (value.isScalar()) {
            appendScalar(m_out, value.scalar);
        } else if (!value.expand && allScalars(value)) {
            const QByteArray line = oneLine(value);
            const qsizetype width = displayWidth(prefix) + displayWidth(line) + (last ? 0 : 1);
            if (width <= kLineLimit)
                m_out.append(line);
            else
                writeBlock(value, indent);
        } else {
            writeBlock(value, indent);
        }
        if (!last)
            m_out.append(',');
        m_out.append('\n');
    }

    void writeBlock(const Node &n, int indent) {
        const QByteArray inner(indent + kIndent, ' ');
        const bool isObject = n.kind == Node::Kind::Object;
        const qsizetype count = isObject ? n.members.size() : n.items.size();
        if (count == 0) {
            m_out.append(isObject ? "{}" : "[]");
            return;
        }
        m_out.append(isObject ? "{\n" : "[\n");
        for (qsizetype i = 0; i < count; ++i) {
            QByteArray prefix = inner;
            if (isObject) {
                appendString(prefix, n.members.at(i).first);
                prefix.append(": ");
            }
            writeEntry(prefix, isObject ? n.members.at(i).second : n.items.at(i), indent + kIndent,
                       i + 1 == count);
        }
        m_out.append(QByteArray(indent, ' '));
        m_out.append(isObject ? '}' : ']');
    }

private:
    QByteArray m_out;
};

Node durationNode(const Duration &d) {
    return Node::fromJson(d.text.isEmpty() ? formatDuration(d.ms) : d.text);
}

void addExtra(Node &n, const QJsonObject &extra, const QStringList &known) {
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (!known.contains(it.key())) // a known key would be written twice
            n.add(it.key(), it.value());
    }
}

Node stepNode(const Step &s) {
    Node n = Node::object();
    n.expand = true;
    n.add(QStringLiteral("id"), s.id);
    n.add(QStringLiteral("kind"), s.kind);
    if (!s.description.isEmpty())
        n.add(QStringLiteral("description"), s.description);
    if (!s.after.isEmpty())
        n.add(QStringLiteral("after"), QJsonArray::fromStringList(s.after));
    if (s.join)
        n.add(QStringLiteral("join"), QString::fromLatin1(joinRuleName(*s.join)));
    if (!s.resource.isEmpty())
        n.add(QStringLiteral("resource"), s.resource);
    if (s.idempotency)
        n.add(QStringLiteral("idempotency"), QString::fromLatin1(idempotencyName(*s.idempotency)));
    if (!s.foreach.isUndefined())
        n.add(QStringLiteral("foreach"), s.foreach);
    if (!s.itemKey.isEmpty())
        n.add(QStringLiteral("item_key"), s.itemKey);
    if (s.concurrency)
        n.add(QStringLiteral("concurrency"), *s.concurrency);
    if (s.tolerate) {
        QJsonObject t;
        if (s.tolerate->maxFailed)
            t.insert(QStringLiteral("max_failed"), *s.tolerate->maxFailed);
        if (s.tolerate->maxFailedRatio)
            t.insert(QStringLiteral("max_failed_ratio"), *s.tolerate->maxFailedRatio);
        n.add(QStringLiteral("tolerate"), t);
    }
    if (!s.with.isEmpty())
        n.add(QStringLiteral("with"), s.with);
    if (s.retry)
        n.add(QStringLiteral("retry"), *s.retry);
    if (s.timeout)
        n.add(QStringLiteral("timeout"), durationNode(*s.timeout));
    if (s.deadline)
        n.add(QStringLiteral("deadline"), durationNode(*s.deadline));
    if (s.delay)
        n.add(QStringLiteral("delay"), durationNode(*s.delay));
    if (!s.notBefore.isEmpty())
        n.add(QStringLiteral("not_before"), s.notBefore);
    if (s.fallback.kind == Fallback::Kind::Value)
        n.add(QStringLiteral("fallback"), QJsonObject{{QStringLiteral("value"), s.fallback.value}});
    else if (s.fallback.kind == Fallback::Kind::Step)
        n.add(QStringLiteral("fallback"), QJsonObject{{QStringLiteral("step"), s.fallback.step}});
    if (s.drill)
        n.add(QStringLiteral("drill"), *s.drill);
    if (s.ui)
        n.add(QStringLiteral("ui"), *s.ui);
    addExtra(n, s.extra, knownStepKeys());
    return n;
}

} // namespace

QByteArray serializeFlow(const Flow &flow) {
    Node root = Node::object();
    root.expand = true;
    if (flow.schema)
        root.add(QStringLiteral("$schema"), *flow.schema);
    root.add(QStringLiteral("keepflow"), flow.formatVersion);
    root.add(QStringLiteral("name"), flow.name);
    if (!flow.description.isEmpty())
        root.add(QStringLiteral("description"), flow.description);
    if (!flow.params.isEmpty()) {
        // Sorted by name like any other object; the list order in memory does not matter.
        QJsonObject params;
        for (const ParamSpec &p : flow.params) {
            QJsonObject spec = p.extra;
            if (!p.defaultValue.isUndefined())
                spec.insert(QStringLiteral("default"), p.defaultValue);
            if (!p.description.isEmpty())
                spec.insert(QStringLiteral("description"), p.description);
            params.insert(p.name, spec);
        }
        root.add(QStringLiteral("params"), params);
    }
    if (flow.defaultRetry || flow.defaultTimeout || !flow.defaultsExtra.isEmpty()) {
        QJsonObject defaults = flow.defaultsExtra;
        if (flow.defaultRetry)
            defaults.insert(QStringLiteral("retry"), *flow.defaultRetry);
        if (flow.defaultTimeout)
            defaults.insert(QStringLiteral("timeout"), flow.defaultTimeout->text.isEmpty()
                                                           ? formatDuration(flow.defaultTimeout->ms)
                                                           : flow.defaultTimeout->text);
        root.add(QStringLiteral("defaults"), defaults);
    }
    if (!flow.resources.isEmpty()) {
        QJsonObject resources;
        for (const ResourceSpec &r : flow.resources)
            resources.insert(r.name, r.definition);
        root.add(QStringLiteral("resources"), resources);
    }
    Node steps = Node::array();
    for (const Step &s : flow.steps)
        steps.items.append(stepNode(s));
    root.add(QStringLiteral("steps"), std::move(steps));
    addExtra(root, flow.extra, knownTopLevelKeys());

    Writer writer;
    writer.writeEntry(QByteArray(), root, 0, true);
    return writer.take();
}

} // namespace keepflow
