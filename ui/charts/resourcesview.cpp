#include "resourcesview.h"

#include "resourcestablemodel.h"
#include "statestyle.h"

#include "qcp.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QShortcut>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace keepflow::ui {

namespace {

// Resource lines are identities, not states: the Okabe–Ito palette, safe for color-blind users.
const QList<QColor> &lineColors() {
    static const QList<QColor> colors{QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00),
                                      QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                                      QColor(0x56, 0xb4, 0xe9), QColor(0xd5, 0x5e, 0x00),
                                      QColor(0xf0, 0xe4, 0x42), QColor(0x80, 0x80, 0x80)};
    return colors;
}

double chartValue(ResourcesView::Chart chart, const ResourceSample &sample) {
    switch (chart) {
    case ResourcesView::QueueDepth:
        return sample.queued;
    case ResourcesView::InFlight:
        return sample.inFlight;
    case ResourcesView::ErrorRate:
        return sample.errorRate * 100;
    case ResourcesView::Latency:
        return sample.latencyMs; // NaN breaks the line: no call finished then
    case ResourcesView::ChartCount:
        break;
    }
    return 0;
}

QPushButton *makeButton(const QString &label, QWidget *parent) {
    auto *button = new QPushButton(label, parent);
    button->setAccessibleName(label);
    button->setEnabled(false);
    return button;
}

} // namespace

ResourcesView::ResourcesView(QWidget *parent)
    : QWidget(parent)
    , m_model(new ResourcesTableModel(this))
    , m_table(new QTableView(this)) {
    auto *title = new QLabel(tr("&Resources"), this);
    title->setBuddy(m_table);
    m_table->setModel(m_model);
    m_table->setAccessibleName(tr("Resources"));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setTabKeyNavigation(false); // Tab leaves the table for the buttons
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // Escape returns the charts to every resource.
    auto *clearSelection = new QShortcut(QKeySequence(Qt::Key_Escape), m_table);
    clearSelection->setContext(Qt::WidgetShortcut);
    connect(clearSelection, &QShortcut::activated, m_table, &QTableView::clearSelection);

    m_pause = makeButton(tr("Pause"), this);
    m_unpause = makeButton(tr("Unpause"), this);
    m_reset = makeButton(tr("Reset breaker"), this);
    m_pause->setToolTip(tr("Start no new call to the selected resource until unpaused"));
    m_reset->setToolTip(tr("Close the selected resource's circuit breaker now"));
    m_limits = makeButton(tr("Set limits…"), this);
    m_limits->setToolTip(tr("Change the selected resource's concurrency or rate live, for every "
                            "run and worker"));
    connect(m_limits, &QPushButton::clicked, this,
            [this] { Q_EMIT limitsRequested(selectedResource()); });
    connect(m_pause, &QPushButton::clicked, this,
            [this] { Q_EMIT pauseRequested(selectedResource()); });
    connect(m_unpause, &QPushButton::clicked, this,
            [this] { Q_EMIT unpauseRequested(selectedResource()); });
    connect(m_reset, &QPushButton::clicked, this,
            [this] { Q_EMIT resetRequested(selectedResource()); });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_pause);
    buttons->addWidget(m_unpause);
    buttons->addWidget(m_reset);
    buttons->addWidget(m_limits);
    buttons->addStretch();

    auto *charts = new QGridLayout;
    for (int i = 0; i < ChartCount; ++i) {
        const auto chart = static_cast<Chart>(i);
        auto *plot = new QCustomPlot(this);
        plot->setAccessibleName(chartTitle(chart));
        plot->setObjectName(chartTitle(chart));
        plot->setFocusPolicy(Qt::NoFocus);
        plot->setMinimumSize(160, 140);
        plot->plotLayout()->insertRow(0);
        plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, chartTitle(chart)));
        auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
        ticker->setDateTimeFormat(QStringLiteral("HH:mm:ss"));
        ticker->setTickCount(4);
        plot->xAxis->setTicker(ticker);
        if (chart == ErrorRate)
            plot->yAxis->setLabel(QStringLiteral("%"));
        plot->legend->setFont(font());
        m_charts.append(plot);
        charts->addWidget(plot, i / 2, i % 2);
    }

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(title);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);
    layout->addLayout(charts, 2);
    setTabOrder(m_table, m_pause);
    setTabOrder(m_pause, m_unpause);
    setTabOrder(m_unpause, m_reset);
    setTabOrder(m_reset, m_limits);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ResourcesView::onSelectionChanged);
    // A new sample may pause the selected resource or close its breaker.
    connect(m_model, &QAbstractItemModel::dataChanged, this, &ResourcesView::updateButtons);
    applyPalette();
}

ResourcesView::~ResourcesView() = default;

QString ResourcesView::chartTitle(Chart chart) {
    switch (chart) {
    case QueueDepth:
        return tr("Queue depth");
    case InFlight:
        return tr("In flight");
    case ErrorRate:
        return tr("Error rate");
    case Latency:
        return tr("Latency (ms)");
    case ChartCount:
        break;
    }
    return {};
}

void ResourcesView::addSamples(const QList<ResourceSample> &samples) {
    QList<ResourceSample> accepted;
    for (const ResourceSample &sample : samples) {
        QList<ResourceSample> &history = m_history[sample.name];
        // Out-of-order samples would fold the lines back on themselves.
        if (!history.isEmpty() && sample.at < history.constLast().at)
            continue;
        history.append(sample);
        const qint64 oldest = sample.at - m_historySpanMs;
        // Qt 6's QList removes from the front in constant time.
        while (history.size() > m_maxPoints || history.constFirst().at < oldest)
            history.removeFirst();
        accepted.append(sample);
    }
    m_model->updateLatest(accepted);
    updateCharts();
}

void ResourcesView::setHistoryLimits(qint64 spanMs, int maxPoints) {
    m_historySpanMs = std::max<qint64>(spanMs, 0);
    m_maxPoints = std::max(maxPoints, 1);
    for (QList<ResourceSample> &history : m_history) {
        const qint64 oldest = history.constLast().at - m_historySpanMs;
        while (history.size() > m_maxPoints || history.constFirst().at < oldest)
            history.removeFirst();
    }
    updateCharts();
}

void ResourcesView::clear() {
    m_history.clear();
    m_model->clear(); // a reset: the selection goes without selectionChanged
    const bool hadSelection = !m_selected.isEmpty();
    m_selected.clear();
    updateButtons();
    updateCharts();
    if (hadSelection)
        Q_EMIT selectedResourceChanged(QString());
}

QString ResourcesView::selectedResource() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_model->nameAt(rows.constFirst().row());
}

void ResourcesView::selectResource(const QString &name) {
    const int row = m_model->rowOf(name);
    if (row < 0) {
        m_table->clearSelection();
        return;
    }
    m_table->selectRow(row);
    m_table->scrollTo(m_model->index(row, 0));
}

int ResourcesView::historySize(const QString &name) const {
    return static_cast<int>(m_history.value(name).size());
}

void ResourcesView::changeEvent(QEvent *event) {
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
    QWidget::changeEvent(event);
}

void ResourcesView::onSelectionChanged() {
    updateButtons();
    // Rows inserted above the selection move it without changing which resource it is.
    const QString selected = selectedResource();
    if (selected == m_selected)
        return;
    m_selected = selected;
    updateCharts();
    Q_EMIT selectedResourceChanged(selected);
}

void ResourcesView::setReadOnly(const QString &tip) {
    m_readOnlyTip = tip;
    for (QPushButton *button : {m_pause, m_unpause, m_reset, m_limits}) {
        if (!tip.isEmpty())
            button->setToolTip(tip);
    }
    updateButtons();
}

void ResourcesView::updateButtons() {
    const int row = m_model->rowOf(selectedResource());
    const bool selected = row >= 0 && m_readOnlyTip.isEmpty();
    const ResourceSample *sample = selected ? &m_model->sampleAt(row) : nullptr;
    m_pause->setEnabled(selected && !sample->paused);
    m_unpause->setEnabled(selected && sample->paused);
    m_reset->setEnabled(selected && sample->breakerState != QLatin1String("closed"));
    m_limits->setEnabled(selected);
}

void ResourcesView::updateCharts() {
    const QString &selected = m_selected;
    QStringList names = m_history.keys();
    std::sort(names.begin(), names.end());
    // A resource keeps its color whether it is shown alone or among the others.
    QHash<QString, QColor> colorOf;
    for (int i = 0; i < names.size(); ++i)
        colorOf.insert(names[i], lineColors().at(i % lineColors().size()));
    if (!selected.isEmpty())
        names = QStringList{selected};

    for (int i = 0; i < ChartCount; ++i) {
        const auto chart = static_cast<Chart>(i);
        QCustomPlot *plot = m_charts[i];
        while (plot->graphCount() > names.size())
            plot->removeGraph(plot->graphCount() - 1);
        while (plot->graphCount() < names.size())
            plot->addGraph();
        double top = chart == ErrorRate ? 100 : 1;
        double first = 0;
        double last = 0;
        for (int g = 0; g < names.size(); ++g) {
            const QList<ResourceSample> history = m_history.value(names[g]);
            QVector<double> keys;
            QVector<double> values;
            keys.reserve(history.size());
            values.reserve(history.size());
            for (const ResourceSample &sample : history) {
                const double value = chartValue(chart, sample);
                keys.append(static_cast<double>(sample.at) / 1000.0);
                values.append(value);
                if (!std::isnan(value))
                    top = std::max(top, value * 1.1);
            }
            if (!keys.isEmpty()) {
                first = first == 0 ? keys.constFirst() : std::min(first, keys.constFirst());
                last = std::max(last, keys.constLast());
            }
            QCPGraph *graph = plot->graph(g);
            graph->setName(names[g]);
            graph->setPen(QPen(colorOf.value(names[g]), 1.5));
            // Latency has gaps; a lone value between them needs a dot to be seen at all.
            if (chart == Latency)
                graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3));
            graph->setData(keys, values, true);
        }
        if (last == 0) // nothing sampled yet: the last minute, not the 1970s
            last = static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
        if (last - first < 1)
            first = last - 60;
        plot->xAxis->setRange(first, last);
        plot->yAxis->setRange(0, top);
        plot->legend->setVisible(names.size() > 1);
        plot->setAccessibleDescription(selected.isEmpty() ? tr("All resources")
                                                          : tr("Resource %1").arg(selected));
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void ResourcesView::applyPalette() {
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(isDarkPalette(pal) ? 60 : 40);
    for (QCustomPlot *plot : std::as_const(m_charts)) {
        plot->setBackground(pal.color(QPalette::Base));
        plot->legend->setBrush(pal.color(QPalette::Base));
        plot->legend->setTextColor(text);
        for (QCPAxis *axis : {plot->xAxis, plot->yAxis}) {
            axis->setBasePen(QPen(text));
            axis->setTickPen(QPen(text));
            axis->setSubTickPen(QPen(text));
            axis->setTickLabelColor(text);
            axis->setLabelColor(text);
            axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
        }
        if (auto *title = qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0)))
            title->setTextColor(text);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

} // namespace keepflow::ui
