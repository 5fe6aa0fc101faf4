// The URL builder on arbitrary templates and values: no crash, no hang; what it builds is an
// http(s) URL with a host; and where the template fixes the scheme and host, a value can change
// neither those nor the URL's shape (how many path segments and query parameters, whether there
// is a fragment): it stays inside the part it was written in.
// Input: the URL template, a newline, then the value of {{params.x}}.

#include "fuzztarget.h"
#include "model/urltemplate.h"

using namespace keepflow;

namespace {

struct Shape {
    QString scheme;
    QString host;
    int port = -1;
    qsizetype segments = 0;
    qsizetype queryItems = 0;
    bool hasFragment = false;
    bool operator==(const Shape &) const = default;
};

Shape shapeOf(const QUrl &url) {
    const QString query = url.query(QUrl::FullyEncoded);
    return {url.scheme(), url.host(), url.port(),
            url.path(QUrl::FullyEncoded).count(QLatin1Char('/')),
            // "?" with nothing after it (an empty value) is still one, empty, parameter.
            url.hasQuery() ? query.count(QLatin1Char('&')) + 1 : 0, url.hasFragment()};
}

Result<QUrl> render(const QString &urlTemplate, const QString &x) {
    TemplateScope scope;
    scope.params = {{QStringLiteral("x"), x}};
    return renderUrl(urlTemplate, scope);
}

/// True when the scheme and host are literal text ("https://host/..."), not a template.
bool fixesSchemeAndHost(const QString &urlTemplate) {
    for (const QLatin1String scheme : {QLatin1String("http://"), QLatin1String("https://")}) {
        if (!urlTemplate.startsWith(scheme))
            continue;
        const qsizetype authorityEnd = urlTemplate.indexOf(QLatin1Char('/'), scheme.size());
        const QString authority = urlTemplate.mid(scheme.size(), authorityEnd - scheme.size());
        return !authority.isEmpty() && !authority.contains(QLatin1String("{{"));
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const QString input = QString::fromUtf8(fuzz::bytes(data, size));
    const qsizetype newline = input.indexOf(QLatin1Char('\n'));
    const QString urlTemplate = newline < 0 ? input : input.left(newline);
    const QString x = newline < 0 ? QString() : input.mid(newline + 1);
    const Result<QUrl> url = render(urlTemplate, x);
    if (!url) {
        fuzz::require(!url.error().isEmpty(), QStringLiteral("a refusal says nothing"));
        return 0;
    }
    fuzz::require(
        url->isValid() && !url->host().isEmpty() &&
            (url->scheme() == QLatin1String("http") || url->scheme() == QLatin1String("https")),
        QStringLiteral("not an http(s) URL with a host: ") + url->toString());
    if (!fixesSchemeAndHost(urlTemplate))
        return 0;
    const Result<QUrl> plain = render(urlTemplate, QStringLiteral("v"));
    if (plain)
        fuzz::require(shapeOf(*url) == shapeOf(*plain),
                      QStringLiteral("the value changed the URL's shape: ") +
                          url->toString(QUrl::FullyEncoded) + QStringLiteral(" against ") +
                          plain->toString(QUrl::FullyEncoded));
    return 0;
}
