#include "stepstatsview.h"

#include "api/monitor.h"
#include "stepstatsreader.h"
#include "stepviews.h"

#include "qcp.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QShortcut>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>

#include <algorithm>

namespace keepflow::ui {

namespace {

// Step lines are identities, not states: the Okabe–Ito palette, safe for color-blind users.
const QList<QColor> &lineColors() {
    static const QList<QColor> colors{QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00),
                                      QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                                      QColor(0x56, 0xb4, 0xe9), QColor(0xd5, 0x5e, 0x00),
                                      QColor(0xf0, 0xe4, 0x42), QColor(0x80, 0x80, 0x80)};
    return colors;
}

QString percent(double share) {
    return QStringLiteral("%1%").arg(share * 100, 0, 'f', 1);
}

/// A cell that shows text and sorts by value.
QStandardItem *cell(const QString &text, const QVariant &sortValue) {
    auto *item = new QStandardItem(text);
    item->setData(sortValue, Qt::UserRole);
    item->setEditable(false);
    return item;
}

constexpr int kStepIdRole = Qt::UserRole + 1;

} // namespace

StepStatsView::StepStatsView(Monitor &monitor, QWidget *parent)
    : QWidget(parent)
    , m_monitor(monitor)
    , m_generation(std::make_shared<std::atomic<quint64>>(0))
    , m_thread(new QThread(this))
    , m_reader(new StepStatsReader(monitor.readerOpener(), m_generation))
    , m_summary(new QLabel(this))
    , m_table(new QTableView(this))
    , m_model(new QStandardItemModel(0, ColumnCount, this))
    , m_chart(new QCustomPlot(this)) {
    m_model->setHorizontalHeaderLabels({tr("Step"), tr("p50"), tr("p95"),
                                        tr("Attempts per success"), tr("Failure rate"),
                                        tr("Retry share"), tr("Runs")});
    m_summary->setWordWrap(true);
    m_summary->setAccessibleName(tr("Step statistics summary"));
    auto *title = new QLabel(tr("Step &statistics"), this);
    title->setBuddy(m_table);
    m_table->setModel(m_model);
    m_table->setAccessibleName(tr("Step statistics"));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setTabKeyNavigation(false);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    // Escape returns the chart to every step.
    auto *clearSelection = new QShortcut(QKeySequence(Qt::Key_Escape), m_table);
    clearSelection->setContext(Qt::WidgetShortcut);
    connect(clearSelection, &QShortcut::activated, m_table, &QTableView::clearSelection);

    m_chart->setObjectName(QStringLiteral("stepFailureRateChart"));
    m_chart->setAccessibleName(tr("Failure rate over time"));
    m_chart->setFocusPolicy(Qt::NoFocus);
    m_chart->setMinimumSize(200, 140);
    m_chart->plotLayout()->insertRow(0);
    m_chart->plotLayout()->addElement(0, 0, new QCPTextElement(m_chart, tr("Failure rate")));
    auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
    ticker->setTickCount(4);
    m_chart->xAxis->setTicker(ticker);
    m_chart->yAxis->setLabel(QStringLiteral("%"));
    m_chart->yAxis->setRange(0, 100);
    m_chart->legend->setFont(font());

    auto *split = new QSplitter(Qt::Horizontal, this);
    auto *left = new QWidget(split);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(title);
    leftLayout->addWidget(m_summary);
    leftLayout->addWidget(m_table, 1);
    split->addWidget(left);
    split->addWidget(m_chart);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &StepStatsView::updateChart);

    qRegisterMetaType<StepStatsRead>();
    m_thread->setObjectName(QStringLiteral("step statistics"));
    m_reader->moveToThread(m_thread);
    // Deleted on its thread once the thread's loop ends: its connection closes there.
    connect(m_thread, &QThread::finished, m_reader, &QObject::deleteLater);
    connect(m_reader, &StepStatsReader::finished, this, &StepStatsView::takeRead);
    m_thread->start();
    showFlow({});
}

StepStatsView::~StepStatsView() {
    // Nothing queued is read any more; the read under way ends, then the thread.
    m_generation->fetch_add(1);
    m_thread->quit();
    m_thread->wait();
}

const FlowStepStats *StepStatsView::statsFor(const QString &flowName) {
    if (flowName.isEmpty())
        return nullptr;
    const auto cached = m_cache.constFind(flowName);
    const bool stale =
        cached == m_cache.cend() ||
        m_monitor.now() - cached->readAt >= std::max(kRefreshMs, kCostFactor * cached->costMs);
    if (stale && m_readingFlow != flowName)
        requestRead(flowName);
    return cached == m_cache.cend() ? nullptr : &cached->stats;
}

const FlowStepStats *StepStatsView::cachedStats(const QString &flowName) const {
    const auto cached = m_cache.constFind(flowName);
    return cached == m_cache.cend() ? nullptr : &cached->stats;
}

void StepStatsView::requestRead(const QString &flowName) {
    const quint64 generation = m_generation->fetch_add(1) + 1;
    m_readingFlow = flowName;
    QMetaObject::invokeMethod(
        m_reader, [reader = m_reader, generation, flowName] { reader->read(generation, flowName); },
        Qt::QueuedConnection);
}

void StepStatsView::takeRead(const StepStatsRead &result) {
    if (result.generation != m_generation->load())
        return; // asked for before the user moved on (or before a newer request)
    m_readingFlow.clear();
    const qint64 now = m_monitor.now();
    if (!result.error.isEmpty()) {
        // Tried again after the usual interval, not on every reload.
        if (auto cached = m_cache.find(result.flowName); cached != m_cache.end())
            cached->readAt = now;
        if (result.flowName == m_flow) {
            m_error = result.error;
            fillTable();
        }
        return;
    }
    m_cache.insert(result.flowName, Cached{result.stats, now, result.costMs});
    if (result.flowName == m_flow) {
        m_error.clear();
        fillTable();
    }
    Q_EMIT statsRead(result.flowName);
}

void StepStatsView::showFlow(const QString &flowName) {
    if (flowName == m_flow && !flowName.isEmpty())
        return;
    m_flow = flowName;
    m_error.clear();
    // What was asked for the former flow is of no use now.
    m_generation->fetch_add(1);
    m_readingFlow.clear();
    fillTable();
    statsFor(flowName); // asks for them when there are none yet or they are old
}

QString StepStatsView::selectedStep() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(kStepIdRole).toString();
}

void StepStatsView::selectStep(const QString &stepId) {
    for (int row = 0; row < m_model->rowCount(); ++row) {
        if (m_model->index(row, StepColumn).data(kStepIdRole).toString() == stepId) {
            m_table->selectRow(row);
            return;
        }
    }
    m_table->clearSelection();
}

void StepStatsView::fillTable() {
    const QString selected = selectedStep();
    m_model->removeRows(0, m_model->rowCount());
    const auto cached = m_cache.constFind(m_flow);
    if (m_flow.isEmpty()) {
        m_summary->setText(tr("No run open: the statistics are those of the open run's flow."));
    } else if (!m_error.isEmpty()) {
        m_summary->setText(tr("Cannot read the statistics of %1: %2").arg(m_flow, m_error));
    } else if (cached == m_cache.cend()) {
        m_summary->setText(tr("Computing the statistics of %1…").arg(m_flow));
    } else {
        const FlowStepStats &stats = cached->stats;
        m_summary->setText(tr("Flow %1 across %n run(s); failure rate per %2. Steps that usually "
                              "fail or retry come first.",
                              nullptr, stats.runs)
                               .arg(m_flow, stats.bucketMs >= 7 * 24 * 3'600'000LL ? tr("week")
                                            : stats.bucketMs >= 24 * 3'600'000LL   ? tr("day")
                                                                                   : tr("hour")));
        for (const StepStats &step : byTrouble(stats.steps)) {
            auto *id = cell(step.stepId, step.stepId);
            id->setData(step.stepId, kStepIdRole);
            const auto span = [](qint64 ms) {
                return ms < 0 ? QStringLiteral("–") : formatSpan(ms);
            };
            const bool finished = step.succeeded + step.failed > 0;
            m_model->appendRow(
                {id, cell(span(step.p50Ms), step.p50Ms), cell(span(step.p95Ms), step.p95Ms),
                 cell(step.succeeded > 0 ? QString::number(step.attemptsPerSuccess(), 'f', 2)
                                         : QStringLiteral("–"),
                      step.attemptsPerSuccess()),
                 cell(finished ? percent(step.failureRate()) : QStringLiteral("–"),
                      step.failureRate()),
                 cell(step.started > 0 ? percent(step.retryShare()) : QStringLiteral("–"),
                      step.retryShare()),
                 cell(QString::number(step.runs), step.runs)});
        }
    }
    if (!selected.isEmpty())
        selectStep(selected);
    updateChart();
}

void StepStatsView::updateChart() {
    m_chart->clearGraphs();
    const auto cached = m_cache.constFind(m_flow);
    if (cached != m_cache.cend() && m_error.isEmpty()) {
        const FlowStepStats &stats = cached->stats;
        const QString selected = selectedStep();
        int line = 0;
        double first = 0;
        double last = 0;
        for (const StepStats &step : stats.steps) {
            if (!selected.isEmpty() && step.stepId != selected)
                continue;
            QCPGraph *graph = m_chart->addGraph();
            graph->setName(step.stepId);
            const QColor color = lineColors().at(line++ % lineColors().size());
            graph->setPen(QPen(color, 2));
            // Points as well as lines: a bucket on its own still shows, and the shape is the
            // reading, not the colour alone.
            graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
            for (const FailureBucket &bucket : step.buckets) {
                // The bucket's middle, in seconds (QCPAxisTickerDateTime).
                const double at = (bucket.start + stats.bucketMs / 2) / 1000.0;
                graph->addData(at, bucket.failureRate() * 100);
                first = first == 0 ? at : std::min(first, at);
                last = std::max(last, at);
            }
        }
        const double half = stats.bucketMs / 2000.0;
        m_chart->xAxis->setRange(first - half, last + half);
        auto ticker = qSharedPointerDynamicCast<QCPAxisTickerDateTime>(m_chart->xAxis->ticker());
        if (ticker)
            ticker->setDateTimeFormat(stats.bucketMs < 24 * 3'600'000LL ? QStringLiteral("HH:mm")
                                                                        : QStringLiteral("dd MMM"));
        m_chart->legend->setVisible(m_chart->graphCount() > 1);
    }
    m_chart->yAxis->setRange(0, 105);
    m_chart->replot();
}

} // namespace keepflow::ui
