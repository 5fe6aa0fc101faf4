#pragma once

// "Set limits…" of a resource in the resources view: its concurrency and rate live, for every
// run and every worker on the database, with the engine's words for what changes ("concurrency
// 4 instead of 2") as the values are typed, a reason, and Apply. Confirming never acts by
// itself: the caller does, on confirmed(), and may refuse() to keep the dialog open.

#include "core/status.h"

#include <QDialog>

#include <functional>
#include <optional>

class QLabel;
class QLineEdit;
class QPushButton;

namespace keepflow::ui {

class ResourceLimitsDialog : public QDialog {
    Q_OBJECT
public:
    /// What setting (concurrency, rate) would change, in words (Monitor::previewResourceLimits).
    using Preview =
        std::function<Result<QString>(std::optional<int> concurrency, const QString &rate)>;

    ResourceLimitsDialog(const QString &name, Preview preview, QWidget *parent = nullptr);

    const QString &resourceName() const { return m_name; }
    /// The concurrency typed; unset when left empty (or not a number: the preview says so).
    std::optional<int> concurrency() const;
    QString rate() const;
    QString reason() const;

    QLineEdit *concurrencyEdit() const { return m_concurrency; }
    QLineEdit *rateEdit() const { return m_rate; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QLabel *previewLabel() const { return m_preview; }
    QPushButton *applyButton() const { return m_apply; }
    void refuse(const QString &why);

Q_SIGNALS:
    void confirmed();

private:
    void updatePreview();

    QString m_name;
    Preview m_previewOf;
    QLineEdit *m_concurrency = nullptr;
    QLineEdit *m_rate = nullptr;
    QLineEdit *m_reason = nullptr;
    QLabel *m_preview = nullptr;
    QPushButton *m_apply = nullptr;
    bool m_refused = false;
};

} // namespace keepflow::ui
