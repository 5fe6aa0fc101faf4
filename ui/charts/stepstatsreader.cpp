#include "stepstatsreader.h"

#include "api/operatorapi.h"

#include <QElapsedTimer>

namespace keepflow::ui {

StepStatsReader::StepStatsReader(Monitor::ReaderOpener opener,
                                 std::shared_ptr<const std::atomic<quint64>> latestGeneration)
    : m_opener(std::move(opener))
    , m_latestGeneration(std::move(latestGeneration)) {}

StepStatsReader::~StepStatsReader() = default;

void StepStatsReader::read(quint64 generation, const QString &flowName) {
    if (generation < m_latestGeneration->load())
        return;
    QElapsedTimer cost;
    cost.start();
    StepStatsRead result;
    result.generation = generation;
    result.flowName = flowName;
    if (!m_api) {
        auto opened = m_opener();
        if (!opened) {
            result.error = opened.error();
            Q_EMIT finished(result);
            return;
        }
        m_api = std::move(*opened);
    }
    auto stats = stepStats(*m_api, flowName);
    if (stats) {
        result.stats = std::move(*stats);
    } else {
        result.error = stats.error();
        // A lost connection (PostgreSQL) is opened again on the next request.
        m_api.reset();
    }
    result.costMs = cost.elapsed();
    Q_EMIT finished(result);
}

} // namespace keepflow::ui
