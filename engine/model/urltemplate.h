#pragma once

// URL templates: "https://api/users/{{params.id}}/orders?date={{params.day}}". The literal text
// decides which part of the URL each template lands in, and its value is percent-encoded for
// that part, so that a value can never add a path segment, a query parameter or a fragment.

#include "core/status.h"
#include "model/template.h"

#include <QString>
#include <QUrl>

namespace keepflow {

/// Renders urlTemplate for one attempt. Where a template is decides how its value is written:
/// - at the start (a base such as "{{params.api}}/users", or the whole URL): as it is; it must be
///   an http:// or https:// URL with a host (a base with no query and no fragment);
/// - in the host ("https://{{params.host}}/x"): a host name, optionally with ":port", only;
/// - in a path segment: every character but letters, digits and "-._~" percent-encoded (so "/",
///   "?", "#" and "%" too); a segment made by templates cannot be empty, "." or "..";
/// - in a query key or value, or the fragment: the same encoding ("&", "=", "+", "#"...).
/// The result must be a valid http:// or https:// URL with a host. Errors name the template and
/// the problem, with the value quoted safely for a log.
Result<QUrl> renderUrl(const QString &urlTemplate, const TemplateScope &scope);

} // namespace keepflow
