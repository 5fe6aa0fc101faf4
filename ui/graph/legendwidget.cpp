#include "legendwidget.h"

#include "statestyle.h"

#include <QAction>
#include <QGridLayout>
#include <QLabel>

namespace keepflow::ui {

LegendWidget::LegendWidget(QWidget *parent)
    : QWidget(parent)
    , m_toggleAction(new QAction(tr("Legend"), this)) {
    setAccessibleName(tr("Legend of step states"));
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->setHorizontalSpacing(6);
    layout->setVerticalSpacing(2);
    int row = 0;
    for (StepState state : allStepStates()) {
        const QString label = stateLabel(state);
        auto *icon = new QLabel(this);
        icon->setPixmap(stateIcon(state).pixmap(16, 16));
        // The icon says the same as the text next to it: screen readers need not read it twice.
        icon->setAccessibleName(label);
        auto *text = new QLabel(label, this);
        text->setBuddy(icon);
        layout->addWidget(icon, row, 0);
        layout->addWidget(text, row, 1);
        m_labels.append(label);
        ++row;
    }
    // The root-cause marker the graph draws on top of a state.
    auto *rootIcon = new QLabel(this);
    rootIcon->setPixmap(rootCauseIcon().pixmap(16, 16));
    rootIcon->setAccessibleName(rootCauseLabel());
    auto *rootText = new QLabel(rootCauseLabel(), this);
    rootText->setBuddy(rootIcon);
    layout->addWidget(rootIcon, row, 0);
    layout->addWidget(rootText, row, 1);
    m_labels.append(rootCauseLabel());
    ++row;
    layout->setRowStretch(row, 1);

    m_toggleAction->setCheckable(true);
    m_toggleAction->setToolTip(tr("Show the legend of step states"));
    connect(m_toggleAction, &QAction::toggled, this, &QWidget::setVisible);
}

QStringList LegendWidget::labels() const {
    return m_labels;
}

void LegendWidget::showEvent(QShowEvent *event) {
    QWidget::showEvent(event);
    m_toggleAction->setChecked(true);
}

void LegendWidget::hideEvent(QHideEvent *event) {
    QWidget::hideEvent(event);
    m_toggleAction->setChecked(false);
}

} // namespace keepflow::ui
