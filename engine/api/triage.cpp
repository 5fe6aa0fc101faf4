#include "api/triage.h"

#include "api/reports.h"

#include <QDateTime>
#include <QHash>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <unordered_map>

namespace keepflow {

namespace {

bool isWordChar(QChar c) {
    return c.isLetterOrNumber();
}

bool isHexDigit(QChar c) {
    return (c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
           (c >= QLatin1Char('a') && c <= QLatin1Char('f')) ||
           (c >= QLatin1Char('A') && c <= QLatin1Char('F'));
}

/// What a word (a run of letters and digits) becomes in a signature: itself, or a mask.
QString maskWord(QStringView word, bool namesACode) {
    int digits = 0;
    bool allHex = true;
    for (const QChar c : word) {
        if (c.isDigit())
            ++digits;
        if (!isHexDigit(c))
            allHex = false;
    }
    const auto length = word.size();
    if (digits == length) {
        // An HTTP status or an exit code says what kind of failure it is: it stays.
        if (namesACode && length <= 3)
            return word.toString();
        return QStringLiteral("<n>");
    }
    if (digits == 0) {
        // Hex without a digit is a word unless it is as long as an id ("deadbeefcafe").
        return allHex && length >= 12 ? QStringLiteral("<id>") : word.toString();
    }
    // A name with a version digit stays: letters then at most three digits (sha256, utf8).
    qsizetype letters = 0;
    while (letters < length && word[letters].isLetter())
        ++letters;
    if (letters > 0 && letters == length - digits && digits <= 3)
        return word.toString();
    if (length >= 6 || allHex)
        return QStringLiteral("<id>");
    return QStringLiteral("<n>");
}

/// A token between spaces that is an e-mail address (name@domain.tld).
bool isEmailAddress(QStringView token) {
    const auto at = token.indexOf(QLatin1Char('@'));
    return at > 0 && token.indexOf(QLatin1Char('.'), at) > at + 1 && !token.contains(u"://");
}

/// Merges masks that only punctuation separates ("<n>.<n>.<n>.<n>:<n>" for an address and
/// port, "<n>-<n>-<n>" for a date) into one.
QString mergeAdjacentMasks(QString text) {
    static const QRegularExpression joined(QStringLiteral("<(n|id)>(?:[.:\\-T]<(?:n|id)>)+"));
    QString merged;
    merged.reserve(text.size());
    qsizetype from = 0;
    for (auto it = joined.globalMatch(text); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        merged += QStringView(text).mid(from, match.capturedStart() - from);
        merged += match.captured(0).contains(QLatin1String("<id>")) ? QStringLiteral("<id>")
                                                                    : QStringLiteral("<n>");
        from = match.capturedEnd();
    }
    if (from == 0)
        return text;
    merged += QStringView(text).mid(from);
    return merged;
}

} // namespace

QString failureSignature(const QString &error) {
    QString out;
    out.reserve(error.size());
    const QStringView text(error);
    bool pendingSpace = false;
    bool previousWordNamesACode = false;
    qsizetype i = 0;
    while (i < text.size()) {
        const QChar c = text[i];
        if (c.isSpace()) {
            pendingSpace = !out.isEmpty();
            ++i;
            continue;
        }
        if (pendingSpace) {
            out += QLatin1Char(' ');
            pendingSpace = false;
        }
        // An e-mail address is one token between spaces.
        if (c.isLetterOrNumber() && (i == 0 || text[i - 1].isSpace())) {
            qsizetype end = i;
            while (end < text.size() && !text[end].isSpace())
                ++end;
            QStringView token = text.mid(i, end - i);
            while (!token.isEmpty() && !token.back().isLetterOrNumber())
                token.chop(1);
            if (isEmailAddress(token)) {
                out += QStringLiteral("<addr>");
                i += token.size();
                previousWordNamesACode = false;
                continue;
            }
        }
        if (!isWordChar(c)) {
            out += c;
            ++i;
            previousWordNamesACode = false; // "http://10.0.0.7": no status follows
            continue;
        }
        qsizetype end = i;
        while (end < text.size() && isWordChar(text[end]))
            ++end;
        const QStringView word = text.mid(i, end - i);
        out += maskWord(word, previousWordNamesACode);
        previousWordNamesACode = word.compare(QLatin1String("HTTP"), Qt::CaseInsensitive) == 0 ||
                                 word.compare(QLatin1String("status"), Qt::CaseInsensitive) == 0 ||
                                 word.compare(QLatin1String("code"), Qt::CaseInsensitive) == 0;
        i = end;
    }
    return mergeAdjacentMasks(out);
}

QList<FailureGroup> groupFailures(const QList<StepFailureRow> &failures) {
    struct Key {
        QString flow, step, errorClass, signature;
        bool operator==(const Key &) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key &key) const {
            return qHashMulti(0, key.flow, key.step, key.errorClass, key.signature);
        }
    };
    // Failures repeat the same texts: each distinct text is masked once.
    QHash<QString, QString> signatures;
    std::unordered_map<Key, qsizetype, KeyHash> index;
    QList<FailureGroup> groups;
    QList<QSet<QString>> runsSeen;
    for (const StepFailureRow &failure : failures) {
        auto known = signatures.constFind(failure.error);
        if (known == signatures.cend())
            known = signatures.insert(failure.error, failureSignature(failure.error));
        Key key{failure.flow, failure.stepId, errorClassName(failure.errorClass), *known};
        auto [it, fresh] = index.try_emplace(std::move(key), groups.size());
        if (fresh) {
            FailureGroup group;
            group.flow = failure.flow;
            group.stepId = failure.stepId;
            group.errorClass = failure.errorClass;
            group.signature = *known;
            group.firstAt = failure.at;
            group.lastAt = failure.at;
            groups.append(group);
            runsSeen.append(QSet<QString>());
        }
        FailureGroup &group = groups[it->second];
        ++group.count;
        if (failure.at >= group.lastAt) {
            group.lastAt = failure.at;
            group.example = failure.error;
        }
        group.firstAt = std::min(group.firstAt, failure.at);
        if (group.example.isEmpty())
            group.example = failure.error;
        QSet<QString> &seen = runsSeen[it->second];
        if (!seen.contains(failure.runId)) {
            seen.insert(failure.runId);
            group.runs.append(failure.runId);
        }
    }
    // Runs newest failure first: order each group's runs by when their failure happened.
    QHash<QString, qint64> failedAt;
    for (const StepFailureRow &failure : failures)
        failedAt[failure.runId] = std::max(failedAt.value(failure.runId), failure.at);
    for (FailureGroup &group : groups)
        std::stable_sort(group.runs.begin(), group.runs.end(),
                         [&failedAt](const QString &a, const QString &b) {
                             return failedAt.value(a) > failedAt.value(b);
                         });
    std::stable_sort(groups.begin(), groups.end(),
                     [](const FailureGroup &a, const FailureGroup &b) {
                         if (a.count != b.count)
                             return a.count > b.count;
                         if (a.lastAt != b.lastAt)
                             return a.lastAt > b.lastAt;
                         if (a.flow != b.flow)
                             return a.flow < b.flow;
                         return a.stepId < b.stepId;
                     });
    return groups;
}

QJsonArray failureGroupsJson(const QList<FailureGroup> &groups) {
    QJsonArray array;
    for (const FailureGroup &group : groups) {
        array.append(QJsonObject{
            {QStringLiteral("flow"), group.flow},
            {QStringLiteral("step"), group.stepId},
            {QStringLiteral("error_class"), group.errorClass
                                                ? QJsonValue(errorClassName(group.errorClass))
                                                : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("signature"), group.signature},
            {QStringLiteral("example"), group.example},
            {QStringLiteral("count"), group.count},
            {QStringLiteral("runs"), QJsonArray::fromStringList(group.runs)},
            {QStringLiteral("first_at"), isoTime(group.firstAt)},
            {QStringLiteral("last_at"), isoTime(group.lastAt)},
        });
    }
    return array;
}

Result<qint64> parseTimeBound(const QString &text, qint64 nowMs) {
    static const QRegularExpression ago(QStringLiteral("^(\\d{1,9})(s|m|h|d|w)$"));
    const QString trimmed = text.trimmed();
    if (const auto match = ago.match(trimmed); match.hasMatch()) {
        const qint64 amount = match.captured(1).toLongLong();
        static const QHash<QString, qint64> unitMs{{QStringLiteral("s"), 1'000},
                                                   {QStringLiteral("m"), 60'000},
                                                   {QStringLiteral("h"), 3'600'000},
                                                   {QStringLiteral("d"), 86'400'000},
                                                   {QStringLiteral("w"), 604'800'000}};
        return nowMs - amount * unitMs.value(match.captured(2));
    }
    QDateTime at = QDateTime::fromString(trimmed, Qt::ISODateWithMs);
    if (!at.isValid())
        at = QDateTime::fromString(trimmed, Qt::ISODate);
    if (!at.isValid())
        return Status::error(QStringLiteral("\"%1\" is not a time: give ISO 8601 "
                                            "(2026-11-28T04:00:00Z, 2026-11-28) or a duration "
                                            "ago (90s, 15m, 2h, 3d, 1w)")
                                 .arg(text));
    return at.toMSecsSinceEpoch();
}

int BulkReport::count(BulkRunOutcome::Outcome outcome) const {
    return static_cast<int>(
        std::count_if(runs.cbegin(), runs.cend(),
                      [outcome](const BulkRunOutcome &run) { return run.outcome == outcome; }));
}

QString bulkOutcomeName(BulkRunOutcome::Outcome outcome) {
    switch (outcome) {
    case BulkRunOutcome::Outcome::WouldApply:
        return QStringLiteral("would_apply");
    case BulkRunOutcome::Outcome::Applied:
        return QStringLiteral("applied");
    case BulkRunOutcome::Outcome::Refused:
        return QStringLiteral("refused");
    }
    return {};
}

QJsonObject bulkReportJson(const BulkReport &report) {
    QJsonArray runs;
    for (const BulkRunOutcome &run : report.runs) {
        QJsonObject entry{{QStringLiteral("run"), run.runId},
                          {QStringLiteral("steps"), QJsonArray::fromStringList(run.steps)},
                          {QStringLiteral("outcome"), bulkOutcomeName(run.outcome)}};
        entry.insert(QStringLiteral("reason"), run.reason);
        runs.append(entry);
    }
    return {{QStringLiteral("dry_run"), report.dryRun},
            {QStringLiteral("runs"), runs},
            {QStringLiteral("applied"), report.count(BulkRunOutcome::Outcome::Applied)},
            {QStringLiteral("refused"), report.count(BulkRunOutcome::Outcome::Refused)}};
}

} // namespace keepflow
