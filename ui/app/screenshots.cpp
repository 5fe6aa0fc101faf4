#include "screenshots.h"

#include "actiondialog.h"
#include "bulkdialog.h"
#include "editorscene.h"
#include "editorwindow.h"
#include "failuresview.h"
#include "flowdocument.h"
#include "historyscrubber.h"
#include "mainwindow.h"
#include "policydialog.h"
#include "propertyeditor.h"
#include "upgradedialog.h"

#include "api/monitor.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QPixmap>
#include <QPointer>
#include <QPushButton>
#include <QScreen>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>

#include <memory>

namespace keepflow::ui {

namespace {

struct Shot {
    int atMs; ///< since the demo started (test backs off between about 3.0 s and 5.4 s)
    QString file;
    std::function<QWidget *(MainWindow &)> prepare; ///< returns the widget to grab
};

QPushButton *inspectorButton(MainWindow &window, const QString &label) {
    const auto buttons = window.findChildren<QPushButton *>();
    for (QPushButton *button : buttons) {
        if (button->accessibleName() == label)
            return button;
    }
    return nullptr;
}

QTabWidget *detailsTabs(MainWindow &window) {
    const auto tabs = window.findChildren<QTabWidget *>();
    for (QTabWidget *candidate : tabs) {
        if (candidate->accessibleName() == QLatin1String("Details"))
            return candidate;
    }
    return nullptr;
}

/// The nightly pipeline as its author fixes it after a night with failures: search-index no
/// longer fails, and a new step publishes the night's data once the report is written.
Flow fixedNightlyPipeline(Flow flow) {
    for (Step &step : flow.steps) {
        if (step.id == QLatin1String("search-index"))
            step.with.insert(QStringLiteral("fail_rate"), 0);
    }
    Step publish;
    publish.id = QStringLiteral("publish");
    publish.kind = QStringLiteral("noop");
    publish.description = QStringLiteral("publish the night's data");
    publish.after = {QStringLiteral("report")};
    flow.steps.append(publish);
    return flow;
}

} // namespace

void takeDemoScreenshots(MainWindow &window, const QStringList &runs, const QString &dir,
                         std::function<void(const Status &)> done) {
    if (runs.size() < 3 || !QDir().mkpath(dir)) {
        done(Status::error(QStringLiteral("cannot write screenshots to %1").arg(dir)));
        return;
    }
    const QString release = runs[0];
    const QString incident = runs[1];
    const QString nightly = runs[2];
    // Docks shown or hidden for a shot take their place at once, not over an animation that may
    // still run when the shot is grabbed.
    window.setAnimated(false);
    auto shots = std::make_shared<QList<Shot>>(QList<Shot>{
        {4500, QStringLiteral("retrying.png"),
         [release](MainWindow &w) -> QWidget * {
             w.selectRun(release);
             w.selectStep(QStringLiteral("test"));
             return &w;
         }},
        {4700, QStringLiteral("policy-change.png"),
         [release](MainWindow &w) -> QWidget * {
             // The retrying step's policy changed live: more attempts, shorter waits,
             // with the engine's preview of what that means now.
             w.selectRun(release);
             w.selectStep(QStringLiteral("test"));
             w.requestPolicyChange(QStringLiteral("test"));
             PolicyDialog *dialog = w.policyDialog();
             if (!dialog)
                 return nullptr;
             for (const auto &[field, value] :
                  {std::pair{QStringLiteral("retry/max_attempts"), QStringLiteral("6")},
                   std::pair{QStringLiteral("retry/initial_interval"), QStringLiteral("1s")}}) {
                 if (auto *edit = qobject_cast<QLineEdit *>(dialog->editor()->fieldWidget(field))) {
                     edit->setText(value);
                     Q_EMIT edit->editingFinished();
                 }
             }
             dialog->reasonEdit()->setText(QStringLiteral("the test cluster is back"));
             return dialog;
         }},
        {22000, QStringLiteral("partial-success.png"),
         [release](MainWindow &w) -> QWidget * {
             if (w.policyDialog())
                 w.policyDialog()->reject();
             w.selectRun(release);
             w.selectStep(QStringLiteral("notify"));
             return &w;
         }},
        {22500, QStringLiteral("timeline.png"),
         [](MainWindow &w) -> QWidget * {
             if (QTabWidget *tabs = detailsTabs(w))
                 tabs->setCurrentIndex(1);
             return &w;
         }},
        {23000, QStringLiteral("resources.png"),
         [](MainWindow &w) -> QWidget * {
             if (QTabWidget *tabs = detailsTabs(w))
                 tabs->setCurrentIndex(2);
             return &w;
         }},
        {23500, QStringLiteral("retry-preview.png"),
         [](MainWindow &w) -> QWidget * {
             if (QTabWidget *tabs = detailsTabs(w))
                 tabs->setCurrentIndex(0);
             if (QPushButton *retry = inspectorButton(w, QStringLiteral("Retry")))
                 retry->click();
             return w.actionDialog();
         }},
        {24500, QStringLiteral("fallback-and-legend.png"),
         [incident](MainWindow &w) -> QWidget * {
             if (w.actionDialog())
                 w.actionDialog()->reject();
             if (auto *legend = w.findChild<QDockWidget *>(QStringLiteral("legendDock")))
                 legend->show();
             w.selectRun(incident);
             w.selectStep(QStringLiteral("probe-health"));
             return &w;
         }},
        {25000, QStringLiteral("failures.png"),
         [](MainWindow &w) -> QWidget * {
             if (auto *legend = w.findChild<QDockWidget *>(QStringLiteral("legendDock")))
                 legend->hide();
             if (QTabWidget *tabs = detailsTabs(w))
                 tabs->setCurrentWidget(w.failuresView());
             QTreeWidget *tree = w.failuresView()->tree();
             if (QTreeWidgetItem *biggest = tree->topLevelItem(0)) {
                 biggest->setExpanded(true);
                 tree->setCurrentItem(biggest);
             }
             return &w;
         }},
        {25500, QStringLiteral("bulk-retry.png"),
         [](MainWindow &w) -> QWidget
                               * {
                                   // The biggest group's fitting action (its dry run): the
                                   // failed items of a foreach step that partially
                                   // succeeded, else the failed step.
                                   const FailureGroup *group = w.failuresView()->selectedGroup();
                                   const auto kind = group && group->signature.contains(
                                                                  QLatin1String("items failed"))
                                                         ? OperatorAction::Kind::RetryFailedItems
                                                         : OperatorAction::Kind::Retry;
                                   for (QAction *action : w.failuresView()->groupActions()) {
                                       if (action->data().toInt() == static_cast<int>(kind))
                                           action->trigger();
                                   }
                                   return w.bulkDialog();
                               }},
        {26500, QStringLiteral("step-statistics.png"),
         [release](MainWindow &w) -> QWidget
                                      * {
                                          if (auto *legend = w.findChild<QDockWidget *>(
                                                  QStringLiteral("legendDock")))
                                              legend->hide();
                                          if (QWidget *bulk = w.bulkDialog())
                                              bulk->close(); // the shot before left it open
                                          if (auto *stats = w.findChild<QDockWidget *>(
                                                  QStringLiteral("stepStatsDock")))
                                              stats->show();
                                          w.selectRun(release);
                                          return &w;
                                      }},
        {27500, QStringLiteral("time-travel.png"),
         [release](MainWindow &w) -> QWidget
                                      * {
                                          if (auto *stats = w.findChild<QDockWidget *>(
                                                  QStringLiteral("stepStatsDock")))
                                              stats->hide();
                                          if (QTabWidget *tabs = detailsTabs(w))
                                              tabs->setCurrentIndex(0);
                                          w.selectRun(release);
                                          w.selectStep(QStringLiteral("test"));
                                          // Back to the test runner's second failure: waiting 6 s
                                          // for attempt 3.
                                          HistoryScrubber *scrubber = w.historyScrubber();
                                          const QList<EventRow> &events = scrubber->events();
                                          qsizetype retry = -1;
                                          int seen = 0;
                                          for (qsizetype i = 0; i < events.size() && seen < 2;
                                               ++i) {
                                              if (events[i].type == EventType::StepRetrying &&
                                                  events[i].stepId == QLatin1String("test")) {
                                                  retry = i;
                                                  ++seen;
                                              }
                                          }
                                          if (retry >= 0)
                                              scrubber->scrubTo(retry);
                                          return &w;
                                      }},
        {28500, QStringLiteral("apply-to-run.png"),
         [nightly](MainWindow &w) -> QWidget
                                      * {
                                          // The editor's "Apply to run…" on the night that
                                          // completed with failures.
                                          auto flow = w.monitor().flowOfRun(nightly);
                                          if (!flow)
                                              return nullptr;
                                          auto *dialog = new UpgradeDialog(
                                              w.monitor(), fixedNightlyPipeline(*flow), {}, nightly,
                                              &w);
                                          dialog->setAttribute(Qt::WA_DeleteOnClose);
                                          dialog->reasonEdit()->setText(QStringLiteral(
                                              "search-index pointed at the old cluster"));
                                          dialog->show();
                                          return dialog;
                                      }},
    });
    for (const Shot &shot : *shots) {
        const bool last = &shot == &shots->last();
        // Prepare, let the refresh timers paint, then grab what was prepared. The grab's timer
        // starts when the preparation has run: on a busy machine both timers could otherwise be
        // overdue together and fire back to back, grabbing before any repaint or relayout.
        QTimer::singleShot(shot.atMs, &window, [&window, shot, last, dir, done] {
            QPointer<QWidget> target = shot.prepare(window);
            QTimer::singleShot(400, &window, [shot, last, target, dir, done] {
                if (!target) {
                    done(Status::error(QStringLiteral("nothing to grab for %1").arg(shot.file)));
                    return;
                }
                const QString path = QDir(dir).filePath(shot.file);
                if (!target->grab().save(path))
                    done(Status::error(QStringLiteral("cannot write %1").arg(path)));
                else if (last)
                    done(Status::ok());
            });
        });
    }
}

void takeEditorScreenshot(EditorWindow &editor, const QString &dir,
                          std::function<void(const Status &)> done) {
    if (!QDir().mkpath(dir)) {
        done(Status::error(QStringLiteral("cannot write screenshots to %1").arg(dir)));
        return;
    }
    QTimer::singleShot(1000, &editor, [&editor] {
        const Flow &flow = editor.document()->flow();
        QString pick = flow.steps.isEmpty() ? QString() : flow.steps.first().id;
        for (const Step &step : flow.steps) {
            if (!step.foreach.isUndefined())
                pick = step.id;
        }
        editor.scene()->selectStep(pick);
    });
    QTimer::singleShot(1800, &editor, [&editor, dir, done] {
        const QString path = QDir(dir).filePath(QStringLiteral("editor.png"));
        done(editor.grab().save(path) ? Status::ok()
                                      : Status::error(QStringLiteral("cannot write %1").arg(path)));
    });
}

} // namespace keepflow::ui
