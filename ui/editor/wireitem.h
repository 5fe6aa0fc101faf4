#pragma once

// The wire that follows the mouse while the user drags from an output port: a dashed curve from
// the port to the pointer. Temporary: EditorScene creates it on press and deletes it on release.
//
// Threading: GUI thread.

#include <QGraphicsPathItem>

namespace keepflow::ui {

class WireItem : public QGraphicsPathItem {
public:
    enum { Type = UserType + 4 };

    /// start: the output port's center in scene coordinates.
    explicit WireItem(QPointF start);

    QPointF start() const { return m_start; }
    QPointF end() const { return m_end; }
    void setEnd(QPointF end);

    int type() const override { return Type; }

private:
    QPointF m_start;
    QPointF m_end;
};

} // namespace keepflow::ui
