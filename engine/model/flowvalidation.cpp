#include "model/flowvalidation.h"

#include "model/problemsink.h"
#include "model/secrets.h"
#include "model/template.h"
#include "model/withvalidation.h"

#include <QBitArray>
#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace keepflow {

namespace {

// Optimal string alignment distance: a swapped pair of letters counts as one edit.
int editDistance(const QString &a, const QString &b) {
    const qsizetype n = a.size();
    const qsizetype m = b.size();
    QList<QList<int>> d(n + 1, QList<int>(m + 1, 0));
    for (qsizetype i = 0; i <= n; ++i)
        d[i][0] = int(i);
    for (qsizetype j = 0; j <= m; ++j)
        d[0][j] = int(j);
    for (qsizetype i = 1; i <= n; ++i) {
        for (qsizetype j = 1; j <= m; ++j) {
            const int cost = a.at(i - 1) == b.at(j - 1) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a.at(i - 1) == b.at(j - 2) && a.at(i - 2) == b.at(j - 1))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

bool isIdentifier(const QString &s) {
    static const QRegularExpression re(QStringLiteral("^[A-Za-z_][A-Za-z0-9_-]*$"));
    return re.match(s).hasMatch();
}

QString refText(const TemplateRef &ref) {
    QString s = QStringLiteral("{{") + ref.root;
    for (const QString &seg : ref.path)
        s += QLatin1Char('.') + seg;
    return s + QStringLiteral("}}");
}

const QStringList &retryKeys() {
    static const QStringList keys{
        QStringLiteral("max_attempts"), QStringLiteral("initial_interval"),
        QStringLiteral("backoff"),      QStringLiteral("max_interval"),
        QStringLiteral("jitter"),       QStringLiteral("non_retryable")};
    return keys;
}

// Where a template is used decides what it may reference.
struct TemplateContext {
    QString prefix;           // "step \"x\": "
    qsizetype stepIndex = -1; // -1: a param default
    bool itemAllowed = false;
    QString itemDeniedReason;
    bool secretsAllowed = false; // only in values a step sends (secretKeysOf)
};

class Validator : private ProblemSink {
public:
    explicit Validator(const Flow &flow)
        : m_flow(flow) {}

    QList<FlowProblem> run() {
        checkTopLevel();
        checkParams();
        checkDefaults();
        checkResources();
        indexSteps();
        for (qsizetype i = 0; i < m_flow.steps.size(); ++i)
            checkStep(i);
        checkCycles();
        return problems();
    }

private:
    // --- retry (value checks shared by several sections are ProblemSink's) -------------

    void checkRetry(const QJsonObject &retry, const QString &path, const QString &prefix,
                    const QString &owner) {
        for (auto it = retry.begin(); it != retry.end(); ++it) {
            const QString key = it.key();
            const QString p = child(path, key);
            const QString what = prefix + quoted(QStringLiteral("retry.") + key);
            const QJsonValue v = it.value();
            // Retry policies are read before any template is rendered: no templates here.
            if (key == QLatin1String("max_attempts")) {
                if (isWholeTemplate(v))
                    error(p, QStringLiteral("%1 must be an integer, not a template").arg(what));
                else
                    checkInteger(v, p, what, 1, kMaxAttempts);
            } else if (key == QLatin1String("initial_interval") ||
                       key == QLatin1String("max_interval")) {
                if (!v.isString() || hasTemplate(v.toString()))
                    error(p, QStringLiteral("%1 must be a duration such as \"10s\"").arg(what));
                else
                    checkJsonDuration(v, p, what);
            } else if (key == QLatin1String("backoff")) {
                if (isWholeTemplate(v))
                    error(p, QStringLiteral("%1 must be a number, not a template").arg(what));
                else
                    checkNumber(v, p, what, 1.0, kMaxBackoff);
            } else if (key == QLatin1String("jitter")) {
                if (isWholeTemplate(v))
                    error(p, QStringLiteral("%1 must be a number, not a template").arg(what));
                else
                    checkNumber(v, p, what, 0.0, 1.0);
            } else if (key == QLatin1String("non_retryable")) {
                bool ok = v.isArray();
                const QJsonArray a = v.toArray();
                for (const QJsonValue &e : a)
                    ok = ok && (e.isString() || jsonInteger(e).has_value());
                if (!ok)
                    error(p, QStringLiteral("%1 must be an array of strings (error types such as "
                                            "\"permanent\", or HTTP statuses)")
                                 .arg(what));
            } else {
                error(p,
                      QStringLiteral("unknown retry key %1 in %2%3; known keys: %4")
                          .arg(quoted(key), owner, didYouMean(key, retryKeys()),
                               retryKeys().join(QLatin1String(", "))),
                      true);
            }
        }
    }

    // --- templates ------------------------------------------------------------------------

    void checkTemplates(const QJsonValue &v, const QString &path, const TemplateContext &ctx) {
        if (v.isObject()) {
            const QJsonObject o = v.toObject();
            for (auto it = o.begin(); it != o.end(); ++it)
                checkTemplates(it.value(), child(path, it.key()), ctx);
        } else if (v.isArray()) {
            const QJsonArray a = v.toArray();
            for (qsizetype i = 0; i < a.size(); ++i)
                checkTemplates(a.at(i), child(path, i), ctx);
        } else if (v.isString()) {
            checkTemplateString(v.toString(), path, ctx);
        }
    }

    void checkTemplateString(const QString &text, const QString &path, const TemplateContext &ctx) {
        if (!hasTemplate(text))
            return;
        const auto refs = parseTemplates(text);
        if (!refs) {
            error(path, ctx.prefix + refs.error());
            return;
        }
        for (const TemplateRef &ref : *refs) {
            const QString problem = templateProblem(ref, ctx);
            if (!problem.isEmpty())
                error(path,
                      ctx.prefix + QStringLiteral("template %1: %2").arg(refText(ref), problem));
        }
    }

    QString templateProblem(const TemplateRef &ref, const TemplateContext &ctx) {
        const QString &root = ref.root;
        if (root == QLatin1String("params")) {
            if (ref.path.isEmpty())
                return QStringLiteral("name a parameter, as in {{params.NAME}}");
            if (!m_flow.param(ref.path.at(0))) {
                QStringList names;
                for (const ParamSpec &p : m_flow.params)
                    names.append(p.name);
                return QStringLiteral("unknown param %1%2")
                    .arg(quoted(ref.path.at(0)),
                         names.isEmpty() ? QStringLiteral(" (the flow declares no params)")
                                         : didYouMean(ref.path.at(0), names));
            }
            return {};
        }
        if (root == QLatin1String("steps")) {
            if (ctx.stepIndex < 0)
                return QStringLiteral("param defaults cannot read step outputs");
            if (ref.path.isEmpty())
                return QStringLiteral("name a step, as in {{steps.ID.output}}");
            const QString &id = ref.path.at(0);
            const qsizetype target = m_firstIndex.value(id, -1);
            if (target < 0)
                return QStringLiteral("unknown step %1").arg(quoted(id));
            if (ref.path.size() < 2 || ref.path.at(1) != QLatin1String("output"))
                return QStringLiteral("use {{steps.%1.output...}} to read the step's output")
                    .arg(id);
            if (target == ctx.stepIndex)
                return QStringLiteral("a step cannot read its own output");
            if (!isUpstream(target, ctx.stepIndex))
                return QStringLiteral("step %1 is not upstream of %2: add it to \"after\" "
                                      "(directly or through another step)")
                    .arg(quoted(id), quoted(m_flow.steps.at(ctx.stepIndex).id));
            return {};
        }
        if (root == QLatin1String("item")) {
            if (!ctx.itemAllowed)
                return ctx.itemDeniedReason;
            return {};
        }
        if (root == QLatin1String("run")) {
            if (ref.path != QStringList{QStringLiteral("id")})
                return QStringLiteral("only {{run.id}} is available under run");
            return {};
        }
        if (root == QLatin1String("idempotency_key")) {
            if (!ref.path.isEmpty())
                return QStringLiteral("{{idempotency_key}} is a string and has no parts");
            if (ctx.stepIndex < 0)
                return QStringLiteral("param defaults have no idempotency key");
            return {};
        }
        if (root == QLatin1String("secrets")) {
            if (ref.path.size() != 1 || !isSecretName(ref.path.at(0)))
                return QStringLiteral("name one secret (letters, digits and \"_\"), as in "
                                      "{{secrets.NAME}}");
            if (!ctx.secretsAllowed)
                return secretsAllowedHint();
            return {};
        }
        return QStringLiteral("unknown root %1").arg(quoted(root));
    }

    // True when step up must finish before step index starts, following "after" transitively.
    bool isUpstream(qsizetype up, qsizetype index) {
        computeAncestors();
        if (m_ordered.at(index))
            return m_ancestorBits.at(index).testBit(up);
        // Only steps on or after a cycle get here (an error anyway): search the graph.
        QList<bool> seen(m_flow.steps.size(), false);
        QList<qsizetype> stack{index};
        while (!stack.isEmpty()) {
            const qsizetype s = stack.takeLast();
            for (qsizetype u : m_up.at(s)) {
                if (u == up)
                    return true;
                if (!seen.at(u)) {
                    seen[u] = true;
                    stack.append(u);
                }
            }
        }
        return false;
    }

    // Ancestor sets as bit arrays, filled in topological order (Kahn): linear in the edges times
    // steps/64, so that a 5,000-step flow whose steps all read the first one validates quickly.
    void computeAncestors() {
        if (!m_ancestorBits.isEmpty() || m_flow.steps.isEmpty())
            return;
        const qsizetype n = m_flow.steps.size();
        m_ancestorBits = QList<QBitArray>(n, QBitArray(n));
        m_ordered = QList<bool>(n, false);
        QList<qsizetype> pending(n, 0);
        for (qsizetype v = 0; v < n; ++v)
            pending[v] = m_up.at(v).size();
        QList<qsizetype> queue;
        for (qsizetype v = 0; v < n; ++v) {
            if (pending.at(v) == 0)
                queue.append(v);
        }
        for (qsizetype q = 0; q < queue.size(); ++q) {
            const qsizetype v = queue.at(q);
            m_ordered[v] = true;
            for (qsizetype w : m_down.at(v)) {
                m_ancestorBits[w] |= m_ancestorBits.at(v);
                m_ancestorBits[w].setBit(v);
                if (--pending[w] == 0)
                    queue.append(w);
            }
        }
    }

    // --- sections -------------------------------------------------------------------------

    void checkTopLevel() {
        if (m_flow.formatVersion != 1)
            error(
                QStringLiteral("/keepflow"),
                QStringLiteral("unsupported \"keepflow\" version %1: this Keepflow reads version 1")
                    .arg(m_flow.formatVersion));
        if (m_flow.name.trimmed().isEmpty())
            error(QStringLiteral("/name"), QStringLiteral("the flow needs a \"name\""));
    }

    void checkParams() {
        QSet<QString> seen;
        for (const ParamSpec &p : m_flow.params) {
            const QString path = child(QStringLiteral("/params"), p.name);
            if (!isIdentifier(p.name))
                error(path,
                      QStringLiteral("invalid param name %1: use letters, digits, \"_\" and "
                                     "\"-\", starting with a letter or \"_\"")
                          .arg(quoted(p.name)),
                      true);
            if (seen.contains(p.name))
                error(path, QStringLiteral("duplicate param %1").arg(quoted(p.name)), true);
            seen.insert(p.name);
            if (!p.defaultValue.isUndefined()) {
                TemplateContext ctx;
                ctx.prefix = QStringLiteral("param %1: ").arg(quoted(p.name));
                ctx.itemDeniedReason = QStringLiteral("param defaults have no item");
                checkTemplates(p.defaultValue, child(path, QStringLiteral("default")), ctx);
            }
        }
    }

    void checkDefaults() {
        const QString path = QStringLiteral("/defaults");
        if (m_flow.defaultRetry)
            checkRetry(*m_flow.defaultRetry, child(path, QStringLiteral("retry")),
                       QStringLiteral("defaults: "), QStringLiteral("\"defaults\""));
        if (m_flow.defaultTimeout)
            checkDuration(*m_flow.defaultTimeout, child(path, QStringLiteral("timeout")),
                          QStringLiteral("defaults: \"timeout\""), true);
    }

    void checkResources() {
        static const QStringList known{QStringLiteral("breaker"), QStringLiteral("concurrency"),
                                       QStringLiteral("max_queue_time"), QStringLiteral("rate")};
        static const QStringList rateKeys{QStringLiteral("limit"), QStringLiteral("per")};
        static const QStringList breakerKeys{
            QStringLiteral("failure_rate"), QStringLiteral("half_open_calls"),
            QStringLiteral("min_calls"), QStringLiteral("open_for"), QStringLiteral("window")};
        QSet<QString> seen;
        for (const ResourceSpec &r : m_flow.resources) {
            const QString path = child(QStringLiteral("/resources"), r.name);
            const QString prefix = QStringLiteral("resource %1: ").arg(quoted(r.name));
            if (r.name.isEmpty())
                error(path, QStringLiteral("a resource needs a name"), true);
            if (seen.contains(r.name))
                error(path, QStringLiteral("duplicate resource %1").arg(quoted(r.name)), true);
            seen.insert(r.name);
            const QJsonObject &d = r.definition;
            for (auto it = d.begin(); it != d.end(); ++it) {
                const QString key = it.key();
                const QString p = child(path, key);
                const QJsonValue v = it.value();
                const QString what = prefix + quoted(key);
                if (key == QLatin1String("concurrency")) {
                    checkInteger(v, p, what, 1, kMaxCount);
                } else if (key == QLatin1String("max_queue_time")) {
                    checkJsonDuration(v, p, what);
                } else if (key == QLatin1String("rate")) {
                    if (!v.isObject()) {
                        error(p, QStringLiteral("%1 must be an object such as { \"limit\": 10, "
                                                "\"per\": \"1s\" }")
                                     .arg(what));
                        continue;
                    }
                    const QJsonObject rate = v.toObject();
                    checkInteger(rate.value(QLatin1String("limit")),
                                 child(p, QStringLiteral("limit")),
                                 prefix + QLatin1String("\"rate.limit\""), 1, kMaxCount);
                    checkJsonDuration(rate.value(QLatin1String("per")),
                                      child(p, QStringLiteral("per")),
                                      prefix + QLatin1String("\"rate.per\""));
                    unknownKeys(rate, p, rateKeys,
                                QStringLiteral("\"rate\" of resource ") + quoted(r.name));
                } else if (key == QLatin1String("breaker")) {
                    if (!v.isObject()) {
                        error(p, QStringLiteral("%1 must be an object").arg(what));
                        continue;
                    }
                    checkBreaker(v.toObject(), p, prefix);
                    unknownKeys(v.toObject(), p, breakerKeys,
                                QStringLiteral("\"breaker\" of resource ") + quoted(r.name));
                } else {
                    warning(p,
                            QStringLiteral("unknown key %1 in resource %2%3")
                                .arg(quoted(key), quoted(r.name), didYouMean(key, known)),
                            true);
                }
            }
        }
    }

    void checkBreaker(const QJsonObject &b, const QString &path, const QString &prefix) {
        for (auto it = b.begin(); it != b.end(); ++it) {
            const QString key = it.key();
            const QString p = child(path, key);
            const QString what = prefix + quoted(QStringLiteral("breaker.") + key);
            if (key == QLatin1String("failure_rate"))
                checkNumber(it.value(), p, what, 0.0, 1.0);
            else if (key == QLatin1String("open_for"))
                checkJsonDuration(it.value(), p, what);
            else if (key == QLatin1String("window") || key == QLatin1String("min_calls") ||
                     key == QLatin1String("half_open_calls"))
                checkInteger(it.value(), p, what, 1, kMaxCount);
        }
    }

    void unknownKeys(const QJsonObject &o, const QString &path, const QStringList &known,
                     const QString &where) {
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!known.contains(it.key()))
                warning(child(path, it.key()),
                        QStringLiteral("unknown key %1 in %2%3")
                            .arg(quoted(it.key()), where, didYouMean(it.key(), known)),
                        true);
        }
    }

    void indexSteps() {
        if (m_flow.steps.isEmpty())
            error(QStringLiteral("/steps"), QStringLiteral("the flow has no steps"));
        for (qsizetype i = 0; i < m_flow.steps.size(); ++i) {
            const Step &s = m_flow.steps.at(i);
            const QString path = child(child(QStringLiteral("/steps"), i), QStringLiteral("id"));
            if (s.id.isEmpty()) {
                error(path, QStringLiteral("steps[%1] has no \"id\"").arg(i));
                continue;
            }
            if (!isValidStepId(s.id))
                error(path,
                      QStringLiteral("invalid step id %1: use letters, digits, \"-\" and \"_\"")
                          .arg(quoted(s.id)));
            const auto first = m_firstIndex.constFind(s.id);
            if (first != m_firstIndex.constEnd()) {
                error(path, QStringLiteral("duplicate step id %1 (first used by steps[%2])")
                                .arg(quoted(s.id))
                                .arg(*first));
                continue;
            }
            m_firstIndex.insert(s.id, i);
        }
        for (qsizetype i = 0; i < m_flow.steps.size(); ++i) {
            const Step &s = m_flow.steps.at(i);
            if (s.fallback.kind == Fallback::Kind::Step && !m_primaryOf.contains(s.fallback.step))
                m_primaryOf.insert(s.fallback.step, i);
        }
        buildGraph();
    }

    // Edges between steps with usable ids; self references and repeats are reported elsewhere.
    void buildGraph() {
        const qsizetype n = m_flow.steps.size();
        m_down = QList<QList<qsizetype>>(n);
        m_up = QList<QList<qsizetype>>(n);
        // The last step that listed each step: a repeat in one "after" is found in constant
        // time (a search of the list made a step waiting for all earlier ones quadratic).
        QList<qsizetype> listedBy(n, -1);
        m_afterIndex = QList<QList<qsizetype>>(n);
        for (qsizetype j = 0; j < n; ++j) {
            QList<qsizetype> &resolved = m_afterIndex[j];
            resolved.reserve(m_flow.steps.at(j).after.size());
            for (const QString &id : m_flow.steps.at(j).after)
                resolved.append(m_firstIndex.value(id, -1));
            if (m_firstIndex.value(m_flow.steps.at(j).id, -1) != j)
                continue; // a duplicate or missing id: not part of the graph
            for (const qsizetype up : resolved) {
                if (up >= 0 && up != j && listedBy.at(up) != j) {
                    listedBy[up] = j;
                    m_up[j].append(up);
                    m_down[up].append(j);
                }
            }
        }
    }

    void checkStep(qsizetype i) {
        const Step &s = m_flow.steps.at(i);
        const QString path = child(QStringLiteral("/steps"), i);
        const QString prefix = stepLabel(s.id, i) + QStringLiteral(": ");

        if (s.kind.isEmpty())
            error(child(path, QStringLiteral("kind")),
                  prefix + QStringLiteral("missing \"kind\"; known kinds: %1")
                               .arg(knownStepKinds().join(QLatin1String(", "))));
        else if (!knownStepKinds().contains(s.kind))
            error(child(path, QStringLiteral("kind")),
                  prefix + QStringLiteral("unknown kind %1%2; known kinds: %3")
                               .arg(quoted(s.kind), didYouMean(s.kind, knownStepKinds()),
                                    knownStepKinds().join(QLatin1String(", "))));

        checkAfter(s, i, path, prefix);

        if (!s.resource.isEmpty() && !m_flow.resource(s.resource)) {
            QStringList names;
            for (const ResourceSpec &r : m_flow.resources)
                names.append(r.name);
            error(child(path, QStringLiteral("resource")),
                  prefix + QStringLiteral("unknown resource %1%2")
                               .arg(quoted(s.resource),
                                    names.isEmpty()
                                        ? QStringLiteral(" (the flow declares no resources)")
                                        : QStringLiteral("; declared: ") +
                                              names.join(QLatin1String(", "))));
        }

        if (s.timeout)
            checkDuration(*s.timeout, child(path, QStringLiteral("timeout")),
                          prefix + QStringLiteral("\"timeout\""), true);
        if (s.deadline)
            checkDuration(*s.deadline, child(path, QStringLiteral("deadline")),
                          prefix + QStringLiteral("\"deadline\""), true);
        if (s.delay)
            checkDuration(*s.delay, child(path, QStringLiteral("delay")),
                          prefix + QStringLiteral("\"delay\""), false);
        if (s.retry)
            checkRetry(*s.retry, child(path, QStringLiteral("retry")), prefix,
                       QStringLiteral("step ") + quoted(s.id));

        if (!s.notBefore.isEmpty()) {
            const QDateTime t = QDateTime::fromString(s.notBefore, Qt::ISODateWithMs);
            if (!t.isValid() || !s.notBefore.contains(QLatin1Char('T')))
                error(child(path, QStringLiteral("not_before")),
                      prefix + QStringLiteral("\"not_before\" must be an ISO 8601 date-time such "
                                              "as \"2026-11-26T06:00:00Z\", not %1")
                                   .arg(quoted(s.notBefore)));
        }

        checkFallback(s, i, path, prefix);
        if (s.drill)
            checkDrill(*s.drill, child(path, QStringLiteral("drill")), prefix);
        checkForeach(s, i, path, prefix);

        TemplateContext ctx;
        ctx.prefix = prefix;
        ctx.stepIndex = i;
        ctx.itemAllowed = !s.foreach.isUndefined();
        ctx.itemDeniedReason =
            QStringLiteral("{{item}} is only available in a step with \"foreach\"");
        checkStepWith(s, child(path, QStringLiteral("with")), prefix, *this);
        const QStringList secretKeys = secretKeysOf(s.kind);
        for (auto it = s.with.begin(); it != s.with.end(); ++it) {
            TemplateContext keyCtx = ctx;
            keyCtx.secretsAllowed = secretKeys.contains(it.key());
            checkTemplates(it.value(), child(child(path, QStringLiteral("with")), it.key()),
                           keyCtx);
        }
        if (!s.itemKey.isEmpty())
            checkTemplateString(s.itemKey, child(path, QStringLiteral("item_key")), ctx);
    }

    void checkAfter(const Step &s, qsizetype i, const QString &path, const QString &prefix) {
        // Linear in the edges: one id lookup each, duplicates found by marking the steps this
        // step has listed so far, and a path built only for an edge that has a problem.
        if (m_listedBy.size() != m_flow.steps.size())
            m_listedBy = QList<qsizetype>(m_flow.steps.size(), -1);
        for (qsizetype k = 0; k < s.after.size(); ++k) {
            const QString &id = s.after.at(k);
            const qsizetype target = m_afterIndex.at(i).at(k);
            const auto at = [&] { return child(child(path, QStringLiteral("after")), k); };
            if (!s.id.isEmpty() && id == s.id && target == i)
                error(at(), prefix + QStringLiteral("\"after\" names the step itself"));
            else if (target < 0)
                error(at(), prefix + QStringLiteral("\"after\" names unknown step %1%2")
                                         .arg(quoted(id), didYouMean(id, m_firstIndex.keys())));
            else if (m_listedBy.at(target) == i)
                error(at(), prefix + QStringLiteral("\"after\" lists %1 twice").arg(quoted(id)));
            if (target >= 0)
                m_listedBy[target] = i;
        }
    }

    void checkDrill(const QJsonObject &drill, const QString &path, const QString &prefix) {
        static const QStringList errors{QStringLiteral("transient"), QStringLiteral("permanent"),
                                        QStringLiteral("timeout"), QStringLiteral("garbage")};
        for (auto it = drill.begin(); it != drill.end(); ++it) {
            const QString p = child(path, it.key());
            const QString what = prefix + QStringLiteral("\"drill.%1\"").arg(it.key());
            if (it.key() == QLatin1String("error")) {
                if (!errors.contains(it.value().toString()))
                    error(p, what + QStringLiteral(" must be one of ") +
                                 errors.join(QStringLiteral(", ")));
            } else if (it.key() == QLatin1String("fail_first")) {
                checkInteger(it.value(), p, what, 0, kMaxCount);
            } else if (it.key() == QLatin1String("fail_rate")) {
                checkNumber(it.value(), p, what, 0, 1);
            } else if (it.key() == QLatin1String("latency")) {
                if (!it.value().isString() || !parseDurationMs(it.value().toString()))
                    error(p, what + QStringLiteral(" must be a duration such as \"2s\""));
                else
                    checkJsonDuration(it.value(), p, what);
            } else {
                error(p,
                      prefix + QStringLiteral("unknown key %1 in \"drill\" (error, fail_first, "
                                              "fail_rate, latency)")
                                   .arg(quoted(it.key())),
                      true);
            }
        }
    }

    void checkFallback(const Step &s, qsizetype i, const QString &path, const QString &prefix) {
        if (m_primaryOf.contains(s.id) && !s.after.isEmpty())
            error(child(path, QStringLiteral("after")),
                  prefix + QStringLiteral("a fallback step must not have \"after\": it runs only "
                                          "as the fallback of another step"));
        if (s.fallback.kind != Fallback::Kind::Step)
            return;
        const QString p = child(child(path, QStringLiteral("fallback")), QStringLiteral("step"));
        const qsizetype target = m_firstIndex.value(s.fallback.step, -1);
        if (s.fallback.step.isEmpty())
            error(p, prefix + QStringLiteral("\"fallback.step\" must name a step"));
        else if (target < 0)
            error(p, prefix + QStringLiteral("fallback step %1 does not exist%2")
                                  .arg(quoted(s.fallback.step),
                                       didYouMean(s.fallback.step, m_firstIndex.keys())));
        else if (target == i)
            error(p, prefix + QStringLiteral("a step cannot be its own fallback"));
        else if (const qsizetype first = m_primaryOf.value(s.fallback.step, i); first != i)
            // One fallback standing in for two steps could be needed by both at once.
            error(p, prefix + QStringLiteral("step %1 is already the fallback of step %2: a step "
                                             "can stand in for one step only")
                                  .arg(quoted(s.fallback.step), quoted(m_flow.steps.at(first).id)));
    }

    void checkForeach(const Step &s, qsizetype i, const QString &path, const QString &prefix) {
        const QString p = child(path, QStringLiteral("foreach"));
        if (s.foreach.isUndefined()) {
            if (!s.itemKey.isEmpty())
                warning(child(path, QStringLiteral("item_key")),
                        prefix + QStringLiteral("\"item_key\" has no effect without \"foreach\""));
            if (s.concurrency)
                warning(child(path, QStringLiteral("concurrency")),
                        prefix +
                            QStringLiteral("\"concurrency\" has no effect without \"foreach\""));
            if (s.tolerate)
                warning(child(path, QStringLiteral("tolerate")),
                        prefix + QStringLiteral("\"tolerate\" has no effect without \"foreach\""));
        }
        TemplateContext ctx;
        ctx.prefix = prefix;
        ctx.stepIndex = i;
        ctx.itemDeniedReason = QStringLiteral("\"foreach\" cannot use {{item}}");
        if (s.foreach.isString()) {
            if (!isWholeTemplate(s.foreach) && parseTemplates(s.foreach.toString()))
                error(p, prefix + QStringLiteral("\"foreach\" must be one template such as "
                                                 "\"{{steps.fetch.output.items}}\" or an array"));
            else
                checkTemplateString(s.foreach.toString(), p, ctx);
        } else if (s.foreach.isArray()) {
            checkTemplates(s.foreach, p, ctx);
        } else if (!s.foreach.isUndefined()) {
            error(p, prefix + QStringLiteral("\"foreach\" must be a template string such as "
                                             "\"{{steps.fetch.output.items}}\" or an array"));
        }
        if (s.concurrency)
            checkIntegerRange(*s.concurrency, child(path, QStringLiteral("concurrency")),
                              prefix + QStringLiteral("\"concurrency\""), 1, kMaxCount);
        if (s.tolerate) {
            const QString tp = child(path, QStringLiteral("tolerate"));
            const Tolerate &t = *s.tolerate;
            if (t.maxFailed.has_value() == t.maxFailedRatio.has_value())
                error(tp, prefix + QStringLiteral("\"tolerate\" must be { \"max_failed\": N } or "
                                                  "{ \"max_failed_ratio\": R }"));
            if (t.maxFailed)
                checkIntegerRange(*t.maxFailed, child(tp, QStringLiteral("max_failed")),
                                  prefix + QStringLiteral("\"tolerate.max_failed\""), 0, kMaxCount);
            if (t.maxFailedRatio && !(*t.maxFailedRatio >= 0.0 && *t.maxFailedRatio <= 1.0))
                error(child(tp, QStringLiteral("max_failed_ratio")),
                      prefix + QStringLiteral("\"tolerate.max_failed_ratio\" must be between 0 "
                                              "and 1"));
        }
    }

    // --- cycles ---------------------------------------------------------------------------

    // A step waits for the steps in its "after" and a fallback step for the step it stands in
    // for: a cycle through either kind of edge is a set of steps none of which can ever start.
    QList<QList<qsizetype>> waitEdges() const {
        QList<QList<qsizetype>> edges = m_down;
        for (qsizetype i = 0; i < m_flow.steps.size(); ++i) {
            const Step &s = m_flow.steps.at(i);
            if (s.fallback.kind != Fallback::Kind::Step)
                continue;
            const qsizetype f = m_firstIndex.value(s.fallback.step, -1);
            if (f >= 0 && f != i && m_firstIndex.value(s.id, -1) == i && !edges.at(i).contains(f))
                edges[i].append(f);
        }
        return edges;
    }

    // Tarjan's strongly connected components, iteratively (a long chain must not overflow the
    // stack); every component with more than one step holds at least one cycle, reported once.
    void checkCycles() {
        const qsizetype n = m_flow.steps.size();
        const QList<QList<qsizetype>> down = waitEdges();
        QList<qsizetype> index(n, -1), low(n, 0), component(n, -1);
        QList<bool> onStack(n, false);
        QList<qsizetype> stack;
        qsizetype counter = 0;
        qsizetype components = 0;
        struct Frame {
            qsizetype node;
            qsizetype next;
        };
        for (qsizetype root = 0; root < n; ++root) {
            if (index[root] >= 0)
                continue;
            QList<Frame> frames{{root, 0}};
            index[root] = low[root] = counter++;
            stack.append(root);
            onStack[root] = true;
            while (!frames.isEmpty()) {
                Frame &f = frames.last();
                if (f.next < down[f.node].size()) {
                    const qsizetype w = down[f.node][f.next++];
                    if (index[w] < 0) {
                        index[w] = low[w] = counter++;
                        stack.append(w);
                        onStack[w] = true;
                        frames.append({w, 0});
                    } else if (onStack[w]) {
                        low[f.node] = std::min(low[f.node], index[w]);
                    }
                    continue;
                }
                const qsizetype v = f.node;
                if (low[v] == index[v]) {
                    qsizetype w = -1;
                    do {
                        w = stack.takeLast();
                        onStack[w] = false;
                        component[w] = components;
                    } while (w != v);
                    ++components;
                }
                frames.removeLast();
                if (!frames.isEmpty())
                    low[frames.last().node] = std::min(low[frames.last().node], low[v]);
            }
        }
        QList<qsizetype> sizes(components, 0);
        for (qsizetype c : component)
            ++sizes[c];
        QSet<qsizetype> reported;
        for (qsizetype start = 0; start < n; ++start) {
            const qsizetype c = component[start];
            if (sizes[c] < 2 || reported.contains(c))
                continue;
            reported.insert(c);
            reportCycle(start, c, component, down);
        }
    }

    // The shortest cycle through start inside its component, found breadth first.
    void reportCycle(qsizetype start, qsizetype c, const QList<qsizetype> &component,
                     const QList<QList<qsizetype>> &down) {
        QHash<qsizetype, qsizetype> previous;
        QList<qsizetype> queue{start};
        qsizetype last = -1;
        for (qsizetype q = 0; q < queue.size() && last < 0; ++q) {
            const qsizetype v = queue.at(q);
            for (qsizetype w : down.at(v)) {
                if (component.at(w) != c)
                    continue;
                if (w == start) {
                    last = v;
                    break;
                }
                if (!previous.contains(w)) {
                    previous.insert(w, v);
                    queue.append(w);
                }
            }
        }
        if (last < 0)
            return; // cannot happen in a component of two or more
        QList<qsizetype> cycle{last};
        while (cycle.front() != start)
            cycle.prepend(previous.value(cycle.front()));
        cycle.append(start);
        // "a -> b" when b waits for a; "a -> fallback b" when b stands in for a.
        bool throughFallback = false;
        QString text = m_flow.steps.at(cycle.front()).id;
        for (qsizetype k = 1; k < cycle.size(); ++k) {
            const bool fallback = !isAfterEdge(cycle.at(k - 1), cycle.at(k));
            throughFallback = throughFallback || fallback;
            text += (fallback ? QLatin1String(" -> fallback ") : QLatin1String(" -> ")) +
                    m_flow.steps.at(cycle.at(k)).id;
        }
        const QString message =
            throughFallback
                ? QStringLiteral("cycle through a fallback: %1; none of these steps can ever start")
                      .arg(text)
                : QStringLiteral("cycle: %1").arg(text);
        // Point at the edge that closes the cycle: start's "after" entry, or last's fallback.
        const QString lastPath = child(QStringLiteral("/steps"), last);
        if (isAfterEdge(last, start)) {
            const Step &s = m_flow.steps.at(start);
            const qsizetype k = s.after.indexOf(m_flow.steps.at(last).id);
            error(child(child(child(QStringLiteral("/steps"), start), QStringLiteral("after")), k),
                  message);
        } else {
            error(child(child(lastPath, QStringLiteral("fallback")), QStringLiteral("step")),
                  message);
        }
    }

    bool isAfterEdge(qsizetype from, qsizetype to) const { return m_down.at(from).contains(to); }

    const Flow &m_flow;
    QHash<QString, qsizetype> m_firstIndex;
    QList<qsizetype> m_listedBy; // per step: the last step whose "after" named it (checkAfter)
    QList<QList<qsizetype>> m_afterIndex;  // per step: the index each "after" id names, or -1
    QHash<QString, qsizetype> m_primaryOf; // fallback step id -> the first step it stands in for
    QList<QList<qsizetype>> m_down;        // step -> the steps that wait for it
    QList<QList<qsizetype>> m_up;          // step -> the steps it waits for
    QList<QBitArray> m_ancestorBits;
    QList<bool> m_ordered; // reached by the topological order (not on or after a cycle)
};

} // namespace

QString didYouMean(const QString &key, const QStringList &candidates) {
    QString best;
    int bestDistance = 3;
    for (const QString &c : candidates) {
        const int d = editDistance(key, c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    const int allowed = key.size() <= 4 ? 1 : 2;
    if (best.isEmpty() || bestDistance > allowed || bestDistance == 0)
        return {};
    return QStringLiteral(" (did you mean \"%1\"?)").arg(best);
}

QString stepLabel(const QString &id, qsizetype index) {
    if (id.isEmpty())
        return QStringLiteral("steps[%1]").arg(index);
    return QStringLiteral("step \"%1\"").arg(id);
}

bool isValidStepId(const QString &id) {
    if (id.isEmpty())
        return false;
    for (QChar c : id) {
        const bool ok = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
                        (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
                        (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-') ||
                        c == QLatin1Char('_');
        if (!ok)
            return false;
    }
    return true;
}

std::optional<qint64> jsonInteger(const QJsonValue &v) {
    if (!v.isDouble())
        return std::nullopt;
    if (v.toVariant().typeId() == QMetaType::LongLong)
        return v.toInteger();
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9.0e15)
        return std::nullopt;
    return static_cast<qint64>(d);
}

const QStringList &knownTopLevelKeys() {
    static const QStringList keys{QStringLiteral("$schema"),   QStringLiteral("keepflow"),
                                  QStringLiteral("name"),      QStringLiteral("description"),
                                  QStringLiteral("params"),    QStringLiteral("defaults"),
                                  QStringLiteral("resources"), QStringLiteral("steps")};
    return keys;
}

const QStringList &knownStepKeys() {
    static const QStringList keys{
        QStringLiteral("id"),          QStringLiteral("kind"),       QStringLiteral("description"),
        QStringLiteral("after"),       QStringLiteral("join"),       QStringLiteral("resource"),
        QStringLiteral("idempotency"), QStringLiteral("foreach"),    QStringLiteral("item_key"),
        QStringLiteral("concurrency"), QStringLiteral("tolerate"),   QStringLiteral("with"),
        QStringLiteral("retry"),       QStringLiteral("timeout"),    QStringLiteral("deadline"),
        QStringLiteral("delay"),       QStringLiteral("not_before"), QStringLiteral("fallback"),
        QStringLiteral("drill"),       QStringLiteral("ui")};
    return keys;
}

const QStringList &knownDefaultsKeys() {
    static const QStringList keys{QStringLiteral("retry"), QStringLiteral("timeout")};
    return keys;
}

const QStringList &knownParamKeys() {
    static const QStringList keys{QStringLiteral("default"), QStringLiteral("description")};
    return keys;
}

QList<FlowProblem> collectFlowProblems(const Flow &flow) {
    return Validator(flow).run();
}

QList<Diagnostic> validateFlow(const Flow &flow) {
    QList<Diagnostic> out;
    for (const FlowProblem &p : collectFlowProblems(flow)) {
        Diagnostic d;
        d.severity = p.severity;
        d.path = p.path;
        d.message = p.message;
        out.append(d);
    }
    return out;
}

} // namespace keepflow
