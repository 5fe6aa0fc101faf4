#include "model/urltemplate.h"

#include "core/messagetext.h"

#include <optional>

namespace keepflow {

namespace {

/// The part of the URL the text written so far ends in.
enum class UrlPart { Scheme, Authority, Path, QueryKey, QueryValue, Fragment };

bool isHttpUrlWithHost(const QUrl &url) {
    return url.isValid() && !url.host().isEmpty() &&
           (url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https"));
}

bool isHostText(const QString &text) {
    if (text.isEmpty())
        return false;
    for (QChar c : text) {
        const bool ok = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
                        (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
                        (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-') ||
                        c == QLatin1Char('.') || c == QLatin1Char(':') || c == QLatin1Char('[') ||
                        c == QLatin1Char(']');
        if (!ok)
            return false;
    }
    return true;
}

class UrlBuilder {
public:
    /// Literal text of the template (or a base URL's own text): it moves from part to part.
    void appendLiteral(QStringView text) {
        for (QChar c : text) {
            endSegmentBefore(c);
            m_out += c;
            advance(c);
        }
    }

    /// A template's value inside a path segment, query or fragment: encoded for it.
    void appendEncoded(const QString &value) {
        m_out += QString::fromLatin1(QUrl::toPercentEncoding(value));
        m_segmentHasTemplate = m_segmentHasTemplate || m_part == UrlPart::Path;
    }

    void appendHost(const QString &value) { m_out += value; }

    /// A path segment made by templates that would move up, stay or vanish; nullopt when none.
    std::optional<QString> finish() {
        endSegment();
        return m_badSegment;
    }

    UrlPart part() const { return m_part; }
    const QString &text() const { return m_out; }

private:
    void advance(QChar c) {
        switch (m_part) {
        case UrlPart::Scheme:
            if (m_out.endsWith(QLatin1String("://")))
                m_part = UrlPart::Authority;
            break;
        case UrlPart::Authority:
        case UrlPart::Path:
            if (c == QLatin1Char('/')) {
                m_part = UrlPart::Path;
                m_segmentStart = m_out.size();
                m_segmentHasTemplate = false;
            } else if (c == QLatin1Char('?')) {
                m_part = UrlPart::QueryKey;
            } else if (c == QLatin1Char('#')) {
                m_part = UrlPart::Fragment;
            }
            break;
        case UrlPart::QueryKey:
        case UrlPart::QueryValue:
            if (c == QLatin1Char('&'))
                m_part = UrlPart::QueryKey;
            else if (c == QLatin1Char('=') && m_part == UrlPart::QueryKey)
                m_part = UrlPart::QueryValue;
            else if (c == QLatin1Char('#'))
                m_part = UrlPart::Fragment;
            break;
        case UrlPart::Fragment:
            break;
        }
    }

    void endSegmentBefore(QChar c) {
        if (m_part == UrlPart::Path &&
            (c == QLatin1Char('/') || c == QLatin1Char('?') || c == QLatin1Char('#')))
            endSegment();
    }

    // "users/{{x}}/profile" with x = "" or "." or "..": the request would go elsewhere.
    void endSegment() {
        if (m_part != UrlPart::Path || !m_segmentHasTemplate || m_badSegment)
            return;
        const QStringView segment = QStringView(m_out).mid(m_segmentStart);
        if (segment.isEmpty() || segment == QLatin1String(".") || segment == QLatin1String(".."))
            m_badSegment = segment.toString();
        m_segmentHasTemplate = false;
    }

    QString m_out;
    UrlPart m_part = UrlPart::Scheme;
    qsizetype m_segmentStart = 0;
    bool m_segmentHasTemplate = false;
    std::optional<QString> m_badSegment;
};

} // namespace

Result<QUrl> renderUrl(const QString &urlTemplate, const TemplateScope &scope) {
    const Result<QList<TemplateRef>> refs = parseTemplates(urlTemplate);
    if (!refs)
        return refs.status();
    UrlBuilder url;
    qsizetype pos = 0;
    for (const TemplateRef &ref : *refs) {
        url.appendLiteral(QStringView(urlTemplate).mid(pos, ref.offset - pos));
        pos = ref.offset + ref.length;
        const QString name = urlTemplate.mid(ref.offset, ref.length);
        const Result<QJsonValue> value = resolveTemplate(ref, scope);
        if (!value)
            return value.status();
        const QString text = templateText(*value);
        switch (url.part()) {
        case UrlPart::Scheme: {
            if (ref.offset != 0)
                return Status::error(
                    QStringLiteral("template %1: a template cannot be part of the URL's scheme; "
                                   "write \"https://\" before it")
                        .arg(name));
            const bool whole = ref.length == urlTemplate.size();
            const QUrl base(text, QUrl::StrictMode);
            if (!isHttpUrlWithHost(base))
                return Status::error(
                    QStringLiteral("template %1 gave %2, which is not an http:// or https:// URL "
                                   "with a host")
                        .arg(name, quotedForMessage(text)));
            if (!whole && (base.hasQuery() || base.hasFragment()))
                return Status::error(
                    QStringLiteral("template %1 gave %2: a base URL followed by more text cannot "
                                   "have a query or a fragment")
                        .arg(name, quotedForMessage(text)));
            url.appendLiteral(text);
            break;
        }
        case UrlPart::Authority:
            if (!isHostText(text))
                return Status::error(
                    QStringLiteral("template %1 gave %2, which is not a host name (letters, "
                                   "digits, \"-\", \".\" and a \":port\")")
                        .arg(name, quotedForMessage(text)));
            url.appendHost(text);
            break;
        case UrlPart::Path:
        case UrlPart::QueryKey:
        case UrlPart::QueryValue:
        case UrlPart::Fragment:
            url.appendEncoded(text);
            break;
        }
    }
    url.appendLiteral(QStringView(urlTemplate).mid(pos));
    if (const std::optional<QString> badSegment = url.finish())
        return Status::error(
            QStringLiteral("%1: a path segment made by templates cannot be empty, \".\" or \"..\" "
                           "(got %2 in %3)")
                .arg(quotedForMessage(urlTemplate), quotedForMessage(*badSegment),
                     quotedForMessage(url.text())));
    const QUrl result(url.text(), QUrl::StrictMode);
    if (!isHttpUrlWithHost(result))
        return Status::error(QStringLiteral("%1 is not an http:// or https:// URL with a host")
                                 .arg(quotedForMessage(url.text())));
    return result;
}

} // namespace keepflow
