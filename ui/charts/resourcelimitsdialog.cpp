#include "resourcelimitsdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace keepflow::ui {

ResourceLimitsDialog::ResourceLimitsDialog(const QString &name, Preview preview, QWidget *parent)
    : QDialog(parent)
    , m_name(name)
    , m_previewOf(std::move(preview)) {
    setWindowTitle(tr("Set limits of %1").arg(name));
    setAccessibleName(tr("Set limits"));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Live, for every run that calls %1 and every worker sharing the "
                                "database. Empty keeps the current value.")
                                 .arg(name));
    intro->setWordWrap(true);
    intro->setTextFormat(Qt::PlainText);
    layout->addWidget(intro);
    auto *form = new QFormLayout;
    m_concurrency = new QLineEdit;
    m_concurrency->setAccessibleName(tr("Concurrency"));
    m_concurrency->setPlaceholderText(tr("calls in flight at once, e.g. 4"));
    form->addRow(tr("Concurrency"), m_concurrency);
    m_rate = new QLineEdit;
    m_rate->setAccessibleName(tr("Rate"));
    m_rate->setPlaceholderText(tr("N/DURATION, e.g. 10/1s"));
    form->addRow(tr("Rate"), m_rate);
    m_reason = new QLineEdit;
    m_reason->setAccessibleName(tr("Reason"));
    m_reason->setPlaceholderText(tr("why, recorded with the change"));
    form->addRow(tr("Reason"), m_reason);
    layout->addLayout(form);
    m_preview = new QLabel;
    m_preview->setWordWrap(true);
    m_preview->setTextFormat(Qt::PlainText);
    m_preview->setAccessibleName(tr("Preview"));
    layout->addWidget(m_preview);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_apply = buttons->addButton(tr("Apply"), QDialogButtonBox::AcceptRole);
    m_apply->setAccessibleName(tr("Apply"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_apply, &QPushButton::clicked, this, [this] {
        m_refused = false;
        Q_EMIT confirmed();
        if (!m_refused)
            accept();
    });
    connect(m_concurrency, &QLineEdit::textChanged, this, &ResourceLimitsDialog::updatePreview);
    connect(m_rate, &QLineEdit::textChanged, this, &ResourceLimitsDialog::updatePreview);
    updatePreview();
}

std::optional<int> ResourceLimitsDialog::concurrency() const {
    bool ok = false;
    const int n = m_concurrency->text().trimmed().toInt(&ok);
    return ok ? std::optional<int>(n) : std::nullopt;
}

QString ResourceLimitsDialog::rate() const {
    return m_rate->text().trimmed();
}

QString ResourceLimitsDialog::reason() const {
    return m_reason->text().trimmed();
}

void ResourceLimitsDialog::refuse(const QString &why) {
    m_refused = true;
    m_preview->setText(why);
}

void ResourceLimitsDialog::updatePreview() {
    const QString typed = m_concurrency->text().trimmed();
    if (!typed.isEmpty() && !concurrency()) {
        m_preview->setText(tr("concurrency must be a whole number (got %1)").arg(typed));
        m_apply->setEnabled(false);
        return;
    }
    if (typed.isEmpty() && rate().isEmpty()) {
        m_preview->setText(tr("Nothing changes yet: type a concurrency or a rate."));
        m_apply->setEnabled(false);
        return;
    }
    const auto preview = m_previewOf ? m_previewOf(concurrency(), rate())
                                     : Result<QString>(Status::error(QString()));
    m_preview->setText(preview ? *preview : preview.error());
    m_apply->setEnabled(preview.isOk() && *preview != QLatin1String("nothing changes"));
}

} // namespace keepflow::ui
