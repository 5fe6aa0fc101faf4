#pragma once

// Reading, validating and writing flow files.

#include "core/status.h"
#include "model/flow.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace keepflow {

/// One problem found in a flow. path is a JSON pointer ("/steps/2/after/0"); line and column
/// are 1-based and 0 when unknown (a flow built in memory).
struct Diagnostic {
    enum class Severity { Error, Warning };
    Severity severity = Severity::Error;
    QString file;
    int line = 0;
    int column = 0;
    QString path;
    QString message;

    /// "FILE:LINE:COLUMN: error: MESSAGE" (the `validate` format).
    QString toString() const;
};

struct FlowLoad {
    std::optional<Flow> flow; ///< set only when there is no error (warnings allowed)
    /// The flow as read when the file is well-formed and every value has its type, even when
    /// validation found errors (an unknown step in `after`, no steps yet): what an editor opens
    /// to fix. Saving it writes back what was read.
    std::optional<Flow> draft;
    QList<Diagnostic> diagnostics; ///< errors and warnings, in file order
    bool ok() const { return flow.has_value(); }
    /// Every error as toString() lines joined by newlines (for messages).
    QString errorText() const;
};

/// Parses and validates flow text. Errors carry the real line and column of the offending
/// value (or of the JSON syntax error). Nothing is thrown.
FlowLoad parseFlow(const QByteArray &text, const QString &fileName);
/// Reads path and parses it; an unreadable file is a diagnostic naming the file.
FlowLoad loadFlowFile(const QString &path);

/// Semantic validation of a flow held in memory: unknown or duplicate ids, cycles, unknown
/// resources and params, bad templates, durations, policies. Diagnostics carry JSON paths only.
QList<Diagnostic> validateFlow(const Flow &flow);

/// The canonical file text: known keys in a fixed order, unknown keys kept after them, two-space
/// indentation, trailing newline. serializeFlow(parse(serializeFlow(f))) == serializeFlow(f).
QByteArray serializeFlow(const Flow &flow);
/// Writes serializeFlow(flow) atomically (QSaveFile); on failure the old file is untouched.
Status saveFlowFile(const Flow &flow, const QString &path);

} // namespace keepflow
