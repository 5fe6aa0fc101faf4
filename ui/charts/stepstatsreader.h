#pragma once

// Reads flows' step statistics (api/stepstats.h) on a thread of its own, for StepStatsView: a
// flow with 100,000 runs takes about half a second to read, which the window must not wait for.
//
// Threading: lives on its reading thread (moveToThread). read() is called there (queued); it
// opens its own read-only connection to the database on the first request, since a Qt SQL
// connection belongs to the thread that opened it, and closes it when destroyed there. Results
// go back through the finished() signal, queued to the view.

#include "api/monitor.h"
#include "api/stepstats.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

namespace keepflow {
class OperatorApi;
}

namespace keepflow::ui {

/// One flow's statistics as read for one request.
struct StepStatsRead {
    quint64 generation = 0; ///< the request's
    QString flowName;
    FlowStepStats stats;
    QString error;     ///< why they could not be read; stats are empty then
    qint64 costMs = 0; ///< how long reading them took (wall time)
};

class StepStatsReader : public QObject {
    Q_OBJECT
public:
    /// latestGeneration: the newest request's generation, as the view has it; a request older
    /// than it when its turn comes is skipped (the user moved on, its result would be dropped).
    StepStatsReader(Monitor::ReaderOpener opener,
                    std::shared_ptr<const std::atomic<quint64>> latestGeneration);
    ~StepStatsReader() override;

    /// Reads the flow's statistics and emits finished(), unless a newer request is waiting.
    void read(quint64 generation, const QString &flowName);

Q_SIGNALS:
    void finished(const keepflow::ui::StepStatsRead &result);

private:
    Monitor::ReaderOpener m_opener;
    std::shared_ptr<const std::atomic<quint64>> m_latestGeneration;
    std::unique_ptr<OperatorApi> m_api; ///< opened on this object's thread
};

} // namespace keepflow::ui

Q_DECLARE_METATYPE(keepflow::ui::StepStatsRead)
