#pragma once

// The legend of the step states: one row per state with the icon and the label the graph, the
// lists and the inspector use (statestyle.h), in allStepStates() order, then the root-cause
// marker.
//
// Threading: GUI thread.

#include <QStringList>
#include <QWidget>

class QAction;

namespace keepflow::ui {

class LegendWidget : public QWidget {
    Q_OBJECT
public:
    explicit LegendWidget(QWidget *parent = nullptr);

    /// The rows' labels, in order.
    QStringList labels() const;
    /// A checkable "Legend" action that shows and hides this widget, kept in sync with it.
    QAction *toggleViewAction() const { return m_toggleAction; }

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    QStringList m_labels;
    QAction *m_toggleAction;
};

} // namespace keepflow::ui
