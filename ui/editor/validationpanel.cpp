#include "validationpanel.h"

#include "flowdocument.h"

#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QStyle>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

enum Column { MessageColumn, PathColumn };

bool sameProblems(const QList<Diagnostic> &a, const QList<Diagnostic> &b) {
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a.at(i).severity != b.at(i).severity || a.at(i).path != b.at(i).path ||
            a.at(i).message != b.at(i).message)
            return false;
    }
    return true;
}

} // namespace

ValidationPanel::ValidationPanel(FlowDocument *document, QWidget *parent)
    : QWidget(parent)
    , m_document(document)
    , m_list(new QTreeWidget(this))
    , m_count(new QLabel(this))
    , m_timer(new QTimer(this)) {
    m_list->setAccessibleName(tr("Problems"));
    m_list->setColumnCount(2);
    m_list->setHeaderLabels({tr("Problem"), tr("Where")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true); // cheap layout for long lists
    m_list->setWordWrap(false);
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(MessageColumn, QHeaderView::Stretch);
    m_list->header()->setSectionResizeMode(PathColumn, QHeaderView::ResizeToContents);
    m_list->installEventFilter(this);
    m_count->setAccessibleName(tr("Problem count"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_count);
    layout->addWidget(m_list, 1);

    m_timer->setSingleShot(true);
    m_timer->setInterval(kRefreshDelayMs);
    connect(m_timer, &QTimer::timeout, this, &ValidationPanel::refreshNow);
    connect(m_document, &FlowDocument::changed, m_timer, [this] {
        if (!m_timer->isActive())
            m_timer->start();
    });
    connect(m_list, &QTreeWidget::itemClicked, this,
            [this](QTreeWidgetItem *item) { activate(item); });
    refreshNow();
}

QString ValidationPanel::stepIdForPath(const Flow &flow, const QString &path) {
    const QStringList parts = path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (parts.size() < 2 || parts.at(0) != QLatin1String("steps"))
        return {};
    bool ok = false;
    const qsizetype index = parts.at(1).toLongLong(&ok);
    if (!ok || index < 0 || index >= flow.steps.size())
        return {};
    return flow.steps.at(index).id;
}

QString ValidationPanel::countText() const {
    if (m_problems.isEmpty())
        return tr("No problems");
    return m_problems.size() == 1 ? tr("1 problem") : tr("%1 problems").arg(m_problems.size());
}

void ValidationPanel::refreshNow() {
    m_timer->stop();
    const Flow &flow = m_document->flow();
    QList<Diagnostic> problems = m_document->problems();

    QSet<QString> steps;
    for (const Diagnostic &d : std::as_const(problems)) {
        const QString id = stepIdForPath(flow, d.path);
        if (!id.isEmpty())
            steps.insert(id);
    }

    if (!sameProblems(problems, m_problems)) {
        m_problems = std::move(problems);
        const QIcon errorIcon = style()->standardIcon(QStyle::SP_MessageBoxCritical);
        const QIcon warningIcon = style()->standardIcon(QStyle::SP_MessageBoxWarning);
        QList<QTreeWidgetItem *> items;
        items.reserve(m_problems.size());
        for (const Diagnostic &d : std::as_const(m_problems)) {
            const bool isError = d.severity == Diagnostic::Severity::Error;
            auto *item =
                new QTreeWidgetItem({d.message, d.path.isEmpty() ? QStringLiteral("/") : d.path});
            item->setIcon(MessageColumn, isError ? errorIcon : warningIcon);
            // The icon is not the only cue: the severity is in the tooltip and accessible text.
            const QString severity = isError ? tr("Error") : tr("Warning");
            item->setToolTip(MessageColumn, QStringLiteral("%1: %2").arg(severity, d.message));
            item->setData(MessageColumn, Qt::AccessibleTextRole,
                          QStringLiteral("%1: %2").arg(severity, d.message));
            item->setData(MessageColumn, Qt::UserRole, d.path);
            items.append(item);
        }
        // One reset and one batched insert, rather than a row-by-row rebuild.
        m_list->setUpdatesEnabled(false);
        m_list->clear();
        m_list->addTopLevelItems(items);
        m_list->setUpdatesEnabled(true);
        m_count->setText(countText());
    }
    // Step ids can change without the problems changing (a rename keeps an index's problems).
    if (steps != m_problemSteps) {
        m_problemSteps = steps;
        Q_EMIT problemStepsChanged(m_problemSteps);
    }
}

void ValidationPanel::activate(QTreeWidgetItem *item) {
    if (!item)
        return;
    const QString path = item->data(MessageColumn, Qt::UserRole).toString();
    Q_EMIT problemActivated(stepIdForPath(m_document->flow(), path), path);
}

bool ValidationPanel::eventFilter(QObject *watched, QEvent *event) {
    if (watched == m_list && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        if (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) {
            activate(m_list->currentItem());
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace keepflow::ui
