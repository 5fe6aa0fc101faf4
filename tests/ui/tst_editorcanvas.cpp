// The editor's canvas (ui/editor/editorscene, paletteview): the run graph's scene in editable
// mode over a FlowDocument. Drops from the palette, wires drawn between ports, refused wires,
// mouse and keyboard moves as undo steps, delete / undo, the clipboard, rubber band, auto-layout,
// problem markers and live state while editing.

#include "edgeitem.h"
#include "editorscene.h"
#include "flowdocument.h"
#include "graphview.h"
#include "noticeitem.h"
#include "paletteview.h"
#include "portitem.h"
#include "stepnodeitem.h"
#include "stepview.h"
#include "wireitem.h"

#include <QApplication>
#include <QClipboard>
#include <QImage>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

// Fixed DPI for widget tests; set before QTEST_MAIN creates the application.
const bool kFixedDpi = qputenv("QT_FONT_DPI", "96");

// a -> b -> c in a row, d below b with no wires; positions on the grid. The undo stack is empty.
void makeChain(FlowDocument &document) {
    document.newFlow(QStringLiteral("canvas"));
    const QStringList ids = {
        *document.requestStepAdd(QStringLiteral("http"), QPointF(0, 0)),
        *document.requestStepAdd(QStringLiteral("shell"), QPointF(300, 0)),
        *document.requestStepAdd(QStringLiteral("noop"), QPointF(600, 0)),
        *document.requestStepAdd(QStringLiteral("sql"), QPointF(300, 200)),
    };
    QCOMPARE(ids, QStringList({"http", "shell", "noop", "sql"}));
    QVERIFY(document.requestEdgeAdd(QStringLiteral("http"), QStringLiteral("shell")));
    QVERIFY(document.requestEdgeAdd(QStringLiteral("shell"), QStringLiteral("noop")));
    document.undoStack()->clear();
}

// The canvas a window would build: scene over the document, view shown at 100 %.
struct Canvas {
    FlowDocument document;
    EditorScene *scene = nullptr;
    GraphView *view = nullptr;

    Canvas() {
        makeChain(document);
        scene = new EditorScene(&document);
        view = new GraphView(scene);
        view->resize(1100, 600);
        view->show();
        view->resetZoom();
        view->centerOn(QPointF(300, 100));
    }
    ~Canvas() {
        delete view;
        delete scene;
    }
    QPoint at(QPointF scenePos) const { return view->mapFromScene(scenePos); }
    QPoint atStep(const QString &id) const { return at(scene->nodeItem(id)->pos()); }
    QPoint atPort(const QString &id, bool output) const {
        return at(scene->port(id, output)->scenePos());
    }
    QStringList after(const QString &id) const { return document.flow().step(id)->after; }
    int undoCount() const { return document.undoStack()->count(); }
    bool ready() {
        if (!QTest::qWaitForWindowExposed(view))
            return false;
        view->activateWindow();
        view->setFocus();
        return true;
    }
    void keyClick(Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
        QTest::keyClick(view, key, modifiers);
    }
};

// Drags with the left button through the viewport in a few moves, as a hand would.
void mouseDrag(QWidget *viewport, QPoint from, QPoint to,
               Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
    QTest::mousePress(viewport, Qt::LeftButton, modifiers, from);
    const int steps = 6;
    for (int i = 1; i <= steps; ++i)
        QTest::mouseMove(viewport, from + (to - from) * i / steps);
    QTest::mouseRelease(viewport, Qt::LeftButton, modifiers, to);
}

QMimeData *paletteMime(PaletteView &palette, const QString &kind) {
    const QModelIndex index = palette.indexFromItem(palette.itemForKind(kind));
    return palette.model()->mimeData({index});
}

// The drag-and-drop events a drop from the palette sends to the canvas's viewport.
bool dropOnCanvas(GraphView *view, const QMimeData *mime, QPoint pos) {
    QDragEnterEvent enter(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &enter);
    if (!enter.isAccepted())
        return false;
    QDragMoveEvent move(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &move);
    QDropEvent drop(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &drop);
    return drop.isAccepted();
}

} // namespace

class TestEditorCanvas : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(kFixedDpi); }

    void canvasShowsTheDocumentInEditMode() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        QCOMPARE(canvas.view->accessibleName(), QStringLiteral("Flow canvas"));
        QVERIFY(canvas.scene->isEditable());
        QCOMPARE(canvas.scene->stepIds(), QStringList({"http", "shell", "noop", "sql"}));
        QCOMPARE(canvas.scene->nodeItem("shell")->pos(), QPointF(300, 0));
        QVERIFY(canvas.scene->edgeItem("http", "shell"));
        QVERIFY(canvas.scene->edgeItem("shell", "noop"));
        QVERIFY(canvas.scene->port("shell", true));
        QVERIFY(canvas.scene->port("shell", false));
        QCOMPARE(canvas.view->dragMode(), QGraphicsView::RubberBandDrag);
        // The run graph is unchanged: no ports there.
        GraphScene monitor;
        monitor.setFlow(canvas.document.flow());
        QVERIFY(!monitor.isEditable());
        for (QGraphicsItem *item : monitor.items())
            QVERIFY(item->type() != PortItem::Type);
    }

    void paletteOffersEveryKindWithItsOwnIcon() {
        PaletteView palette;
        QCOMPARE(palette.accessibleName(), QStringLiteral("Palette"));
        QCOMPARE(palette.searchField()->accessibleName(), QStringLiteral("Search step kinds"));
        QCOMPARE(palette.count(), knownStepKinds().size());
        QSet<QByteArray> icons;
        for (int i = 0; i < palette.count(); ++i) {
            QListWidgetItem *entry = palette.item(i);
            QCOMPARE(entry->text(), knownStepKinds().at(i));
            QCOMPARE(entry->data(Qt::AccessibleTextRole).toString(), entry->text());
            QVERIFY(!entry->icon().isNull());
            const QImage image = entry->icon().pixmap(32, 32).toImage();
            icons.insert(
                QByteArray(reinterpret_cast<const char *>(image.constBits()), image.sizeInBytes()));
        }
        QCOMPARE(icons.size(), palette.count()); // no two kinds look alike

        QTest::keyClicks(palette.searchField(), QStringLiteral("SH"));
        QCOMPARE(palette.visibleKinds(), QStringList({"shell"}));
        palette.setFilterText(QString());
        QCOMPARE(palette.visibleKinds(), knownStepKinds());

        std::unique_ptr<QMimeData> mime(paletteMime(palette, QStringLiteral("sql")));
        QVERIFY(mime->hasFormat(EditorScene::kStepKindMimeType));
        QCOMPARE(mime->data(EditorScene::kStepKindMimeType), QByteArray("sql"));
    }

    void dropFromThePaletteAddsAStepAtTheDropPoint() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        PaletteView palette;
        std::unique_ptr<QMimeData> mime(paletteMime(palette, QStringLiteral("http")));
        QSignalSpy selected(canvas.scene, &GraphScene::stepSelected);

        const QPoint point = canvas.at(QPointF(487, 311));
        QVERIFY(dropOnCanvas(canvas.view, mime.get(), point));
        QCOMPARE(canvas.document.flow().steps.size(), 5);
        const QString id = canvas.document.flow().steps.last().id;
        QCOMPARE(id, QStringLiteral("http-2")); // "http" is taken: a unique id
        QCOMPARE(canvas.document.flow().steps.last().kind, QStringLiteral("http"));
        const QPointF snapped = EditorScene::snapToGrid(canvas.view->mapToScene(point));
        QCOMPARE(snapped, QPointF(480, 320));
        QCOMPARE(canvas.document.stepPosition(id), snapped);
        QVERIFY(canvas.scene->nodeItem(id));
        QCOMPARE(canvas.scene->nodeItem(id)->pos(), snapped);
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({id}));
        QCOMPARE(selected.last().first().toString(), id);
        QCOMPARE(canvas.undoCount(), 1);

        // Another drop: another id. Data of another type is not accepted.
        QVERIFY(dropOnCanvas(canvas.view, mime.get(), canvas.at(QPointF(700, 400))));
        QCOMPARE(canvas.document.flow().steps.last().id, QStringLiteral("http-3"));
        QMimeData text;
        text.setText(QStringLiteral("http"));
        QVERIFY(!dropOnCanvas(canvas.view, &text, point));
        QCOMPARE(canvas.document.flow().steps.size(), 6);
    }

    void wireFromAnOutputPortToAnInputPortAddsTheEdge() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        QVERIFY(!canvas.after("sql").contains("http"));
        const QByteArray before = canvas.document.serialized();

        mouseDrag(canvas.view->viewport(), canvas.atPort("http", true),
                  canvas.atPort("sql", false));
        QCOMPARE(canvas.after("sql"), QStringList({"http"}));
        QVERIFY(canvas.scene->edgeItem("http", "sql"));
        QCOMPARE(canvas.undoCount(), 1);
        // No temporary wire is left behind, and the press did not move or select the step.
        for (QGraphicsItem *item : canvas.scene->items())
            QVERIFY(item->type() != WireItem::Type);
        QCOMPARE(canvas.scene->nodeItem("http")->pos(), QPointF(0, 0));

        canvas.document.undoStack()->undo();
        QVERIFY(!canvas.scene->edgeItem("http", "sql"));
        QCOMPARE(canvas.document.serialized(), before);

        // Dropping the wire anywhere on the target step's box will do.
        mouseDrag(canvas.view->viewport(), canvas.atPort("noop", true), canvas.atStep("sql"));
        QCOMPARE(canvas.after("sql"), QStringList({"noop"}));
    }

    void wireThatClosesACycleIsRefusedVisibly() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        QSignalSpy refused(canvas.scene, &EditorScene::editRefused);
        const QByteArray before = canvas.document.serialized();

        mouseDrag(canvas.view->viewport(), canvas.atPort("noop", true),
                  canvas.atPort("http", false));
        QCOMPARE(refused.size(), 1);
        const QString reason = refused.first().first().toString();
        QVERIFY2(reason.contains(QStringLiteral("cycle")), qPrintable(reason));
        QVERIFY2(reason.contains(QStringLiteral("http -> shell -> noop")), qPrintable(reason));
        QCOMPARE(canvas.document.serialized(), before);
        QCOMPARE(canvas.undoCount(), 0);
        QVERIFY(!canvas.scene->edgeItem("noop", "http"));

        // The reason is on the canvas, readable, until it times out.
        NoticeItem *notice = canvas.scene->noticeItem();
        QVERIFY(notice);
        QCOMPARE(notice->text(), reason);
        QVERIFY(notice->isVisible());
        QVERIFY(canvas.view->mapToScene(canvas.view->viewport()->rect())
                    .boundingRect()
                    .contains(notice->scenePos()));
        QCOMPARE(canvas.scene->lastRefusal(), reason);

        // A self-wire and a duplicate are refused the same way.
        mouseDrag(canvas.view->viewport(), canvas.atPort("sql", true), canvas.atStep("sql"));
        mouseDrag(canvas.view->viewport(), canvas.atPort("http", true),
                  canvas.atPort("shell", false));
        QCOMPARE(refused.size(), 3);
        QCOMPARE(canvas.document.serialized(), before);
        // The notice goes when its time is up: shorten the time instead of waiting 4 s.
        QCOMPARE(canvas.scene->noticeDuration(), EditorScene::kNoticeMs);
        QVERIFY(canvas.scene->noticeItem());
        canvas.scene->setNoticeDuration(0);
        QTRY_VERIFY(!canvas.scene->noticeItem());
    }

    void mouseDragOfAStepIsOneUndoCommand() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        const QByteArray before = canvas.document.serialized();
        // 7 scene units past a grid line each way: snapped back to it.
        mouseDrag(canvas.view->viewport(), canvas.atStep("sql"),
                  canvas.atStep("sql") + QPoint(127, 47));
        QCOMPARE(canvas.document.stepPosition("sql"), QPointF(420, 240));
        QCOMPARE(canvas.scene->nodeItem("sql")->pos(), QPointF(420, 240));
        QCOMPARE(canvas.undoCount(), 1);
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"sql"}));

        // Its wires follow: drag shell, whose edges are attached at both sides.
        const QRectF edgeBefore = canvas.scene->edgeItem("http", "shell")->sceneBoundingRect();
        mouseDrag(canvas.view->viewport(), canvas.atStep("shell"),
                  canvas.atStep("shell") + QPoint(0, 100));
        QCOMPARE(canvas.undoCount(), 2); // a second drag is a second command
        QVERIFY(canvas.scene->edgeItem("http", "shell")->sceneBoundingRect() != edgeBefore);

        canvas.document.undoStack()->undo();
        canvas.document.undoStack()->undo();
        QCOMPARE(canvas.document.serialized(), before);
        QCOMPARE(canvas.scene->nodeItem("sql")->pos(), QPointF(300, 200));
        QCOMPARE(canvas.scene->edgeItem("http", "shell")->sceneBoundingRect(), edgeBefore);
    }

    void draggingASelectionMovesAllOfIt() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        canvas.scene->selectSteps({"http", "sql"});
        mouseDrag(canvas.view->viewport(), canvas.atStep("sql"),
                  canvas.atStep("sql") + QPoint(-40, 60));
        QCOMPARE(canvas.document.stepPosition("sql"), QPointF(260, 260));
        QCOMPARE(canvas.document.stepPosition("http"), QPointF(-40, 60));
        QCOMPARE(canvas.document.stepPosition("shell"), QPointF(300, 0));
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"http", "sql"}));
        QCOMPARE(canvas.undoCount(), 1);
    }

    void arrowKeysMoveTheSelection() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        canvas.scene->selectSteps({"shell", "sql"});
        canvas.keyClick(Qt::Key_Right);
        QCOMPARE(canvas.document.stepPosition("shell"), QPointF(320, 0));
        QCOMPARE(canvas.document.stepPosition("sql"), QPointF(320, 200));
        canvas.keyClick(Qt::Key_Down, Qt::ShiftModifier);
        QCOMPARE(canvas.document.stepPosition("shell"), QPointF(320, 100));
        QCOMPARE(canvas.scene->nodeItem("sql")->pos(), QPointF(320, 300));
        QCOMPARE(canvas.document.stepPosition("http"), QPointF(0, 0));
        QCOMPARE(canvas.undoCount(), 2); // one command per press
        canvas.document.undoStack()->undo();
        QCOMPARE(canvas.scene->nodeItem("sql")->pos(), QPointF(320, 200));

        // With nothing selected the arrows pan the view, as in the run graph.
        canvas.scene->selectSteps({});
        const int undo = canvas.undoCount();
        canvas.keyClick(Qt::Key_Left);
        QCOMPARE(canvas.undoCount(), undo);
    }

    void deleteRemovesTheSelectedStepsAndUndoRestoresThem() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        const QByteArray before = canvas.document.serialized();
        canvas.scene->selectSteps({"shell", "sql"});
        canvas.keyClick(Qt::Key_Delete);
        QCOMPARE(canvas.scene->stepIds(), QStringList({"http", "noop"}));
        QVERIFY(!canvas.scene->nodeItem("shell"));
        QVERIFY(canvas.scene->edgeItems().isEmpty());
        QVERIFY(canvas.after("noop").isEmpty());
        QCOMPARE(canvas.undoCount(), 1);

        canvas.document.undoStack()->undo();
        QCOMPARE(canvas.document.serialized(), before);
        QCOMPARE(canvas.scene->stepIds(), QStringList({"http", "shell", "noop", "sql"}));
        QVERIFY(canvas.scene->edgeItem("shell", "noop"));
        canvas.document.undoStack()->redo();
        QVERIFY(!canvas.scene->nodeItem("sql"));
    }

    void aWireIsSelectedByClickAndDeleted() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        EdgeItem *edge = canvas.scene->edgeItem("shell", "noop");
        // Halfway between the two boxes the curve runs at their height.
        const QPoint middle = canvas.at(QPointF(450, 0));
        QTest::mouseClick(canvas.view->viewport(), Qt::LeftButton, {}, middle);
        QVERIFY(edge->isSelected());
        QCOMPARE(canvas.scene->selectedEdges().size(), 1);
        QVERIFY(canvas.scene->deleteAction()->isEnabled());
        canvas.keyClick(Qt::Key_Delete);
        QVERIFY(!canvas.scene->edgeItem("shell", "noop"));
        QVERIFY(canvas.after("noop").isEmpty());
        QCOMPARE(canvas.scene->stepIds().size(), 4);
        canvas.document.undoStack()->undo();
        QCOMPARE(canvas.after("noop"), QStringList({"shell"}));
    }

    void copyAndPasteKeepInnerWiresAndRenameIds() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        canvas.scene->selectSteps({"http", "shell"});
        canvas.keyClick(Qt::Key_C, Qt::ControlModifier);
        const QMimeData *mime = QGuiApplication::clipboard()->mimeData();
        QVERIFY(mime->hasFormat(EditorScene::kStepsMimeType));
        QVERIFY(mime->text().contains(QStringLiteral("shell")));
        QCOMPARE(canvas.undoCount(), 0);

        canvas.keyClick(Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"http-2", "shell-2"}));
        QCOMPARE(canvas.after("shell-2"), QStringList({"http-2"})); // the inner wire, renamed
        QVERIFY(canvas.after("http-2").isEmpty());
        QVERIFY(canvas.scene->edgeItem("http-2", "shell-2"));
        QCOMPARE(canvas.document.stepPosition("shell-2"), QPointF(340, 40)); // next to the copy
        QCOMPARE(canvas.undoCount(), 1);

        // Cut and paste puts the steps back where they were, under new ids only if taken.
        canvas.scene->selectSteps({"sql"});
        canvas.keyClick(Qt::Key_X, Qt::ControlModifier);
        QVERIFY(!canvas.scene->nodeItem("sql"));
        canvas.keyClick(Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"sql"}));
        QCOMPARE(canvas.document.stepPosition("sql"), QPointF(300, 200));

        // Ctrl+D duplicates the selection.
        canvas.scene->selectSteps({"noop"});
        canvas.keyClick(Qt::Key_D, Qt::ControlModifier);
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"noop-2"}));

        // Text that is not a fragment is refused with a reason.
        QSignalSpy refused(canvas.scene, &EditorScene::editRefused);
        QGuiApplication::clipboard()->setText(QStringLiteral("not steps"));
        const QByteArray before = canvas.document.serialized();
        canvas.keyClick(Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(refused.size(), 1);
        QVERIFY(canvas.scene->noticeItem());
        QCOMPARE(canvas.document.serialized(), before);
    }

    void rubberBandAndCtrlClickSelectSeveralSteps() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        QSignalSpy selection(canvas.scene, &GraphScene::stepSelectionChanged);
        // From the empty space above-left of http to below shell: http and shell, not sql/noop.
        mouseDrag(canvas.view->viewport(), canvas.at(QPointF(-150, -80)),
                  canvas.at(QPointF(330, 60)));
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"http", "shell"}));
        QCOMPARE(selection.last().first().toStringList(), QStringList({"http", "shell"}));
        QCOMPARE(canvas.undoCount(), 0);

        QTest::mouseClick(canvas.view->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          canvas.atStep("sql"));
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"http", "shell", "sql"}));
        QCOMPARE(canvas.scene->selectedStep(), QStringLiteral("http")); // the current step stays
        QTest::mouseClick(canvas.view->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          canvas.atStep("http"));
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"shell", "sql"}));
        // A plain click selects one step alone.
        QTest::mouseClick(canvas.view->viewport(), Qt::LeftButton, {}, canvas.atStep("noop"));
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"noop"}));
        QCOMPARE(canvas.scene->selectedStep(), QStringLiteral("noop"));
        canvas.keyClick(Qt::Key_A, Qt::ControlModifier);
        QCOMPARE(canvas.scene->selectedSteps().size(), 4);
    }

    void autoLayoutIsOneUndoCommand() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        const QByteArray before = canvas.document.serialized();
        QSignalSpy fit(canvas.scene, &GraphScene::fitRequested);
        QVERIFY(canvas.scene->autoLayout());
        QCOMPARE(canvas.undoCount(), 1);
        QCOMPARE(fit.size(), 1);
        // Left to right along the wires, on the grid, and the items follow the document.
        const QPointF http = canvas.document.stepPosition("http");
        const QPointF shell = canvas.document.stepPosition("shell");
        const QPointF noop = canvas.document.stepPosition("noop");
        QVERIFY(http.x() < shell.x() && shell.x() < noop.x());
        QCOMPARE(EditorScene::snapToGrid(shell), shell);
        QCOMPARE(canvas.scene->nodeItem("noop")->pos(), noop);
        QVERIFY(canvas.document.serialized() != before);
        // The whole flow is in view after the fit.
        const QRectF visible =
            canvas.view->mapToScene(canvas.view->viewport()->rect()).boundingRect();
        for (const QString &id : canvas.scene->stepIds())
            QVERIFY(visible.contains(canvas.scene->nodeItem(id)->sceneBoundingRect()));

        canvas.document.undoStack()->undo();
        QCOMPARE(canvas.document.serialized(), before);
        QCOMPARE(canvas.scene->nodeItem("noop")->pos(), QPointF(600, 0));
    }

    void problemStepsAreMarkedByShapeAndColor() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        canvas.scene->setProblemSteps({QStringLiteral("shell")});
        QVERIFY(canvas.scene->nodeItem("shell")->hasProblem());
        QVERIFY(!canvas.scene->nodeItem("http")->hasProblem());
        QVERIFY(canvas.scene->nodeItem("shell")->summaryText().endsWith(
            QStringLiteral("has problems")));

        // The "!" badge sits on the top-right corner of the box, outside it.
        auto cornerColor = [&](const QString &id) {
            StepNodeItem *node = canvas.scene->nodeItem(id);
            const QRectF area = node->sceneBoundingRect();
            QImage image(area.size().toSize(), QImage::Format_ARGB32);
            image.fill(Qt::white);
            QPainter painter(&image);
            canvas.scene->render(&painter, QRectF(), area);
            painter.end();
            const QPointF corner =
                node->mapToScene(StepNodeItem::boxRect().topRight() + QPointF(4, -6)) -
                area.topLeft();
            return image.pixelColor(corner.toPoint());
        };
        QCOMPARE(cornerColor("shell").rgb(), StepNodeItem::problemColor().rgb());
        QVERIFY(cornerColor("http").rgb() != StepNodeItem::problemColor().rgb());
        canvas.scene->setProblemSteps({});
        QVERIFY(!canvas.scene->nodeItem("shell")->hasProblem());
    }

    void liveStateShowsWhileEditing() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        StepView running;
        running.stepId = QStringLiteral("shell");
        running.state = StepState::Running;
        running.attempts = 1;
        canvas.scene->updateSteps({running});
        canvas.scene->flushUpdates();
        QCOMPARE(canvas.scene->stepView("shell")->state, StepState::Running);
        QCOMPARE(canvas.scene->stepView("shell")->kind, QStringLiteral("shell"));
        // A structural edit rebuilds the items but keeps the run state and the selection.
        canvas.scene->selectSteps({"shell"});
        QVERIFY(canvas.scene->addStep(QStringLiteral("delay"), QPointF(900, 0)));
        canvas.scene->selectSteps({"shell", "delay"});
        QVERIFY(canvas.document.requestStepsRemove({QStringLiteral("delay")}));
        QCOMPARE(canvas.scene->stepView("shell")->state, StepState::Running);
        QCOMPARE(canvas.scene->selectedSteps(), QStringList({"shell"}));
    }

    void undoOfAnAddRemovesTheItem() {
        Canvas canvas;
        QVERIFY(canvas.ready());
        const QString id = *canvas.scene->addStep(QStringLiteral("approval"), QPointF(0, 400));
        QVERIFY(canvas.scene->nodeItem(id));
        canvas.document.undoStack()->undo();
        QVERIFY(!canvas.scene->nodeItem(id));
        QCOMPARE(canvas.scene->selectedSteps(), QStringList());
    }
};

QTEST_MAIN(TestEditorCanvas)
#include "tst_editorcanvas.moc"
