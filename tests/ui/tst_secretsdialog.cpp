// File → Secrets…: the names listed, the value typed into a password field and handed to the
// store, never shown.

#include "secretsdialog.h"

#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QTest>

using namespace keepflow;
using namespace keepflow::ui;

class TestSecretsDialog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void storesTheTypedValueWithoutShowingIt();
};

void TestSecretsDialog::storesTheTypedValueWithoutShowingIt() {
    QString storedName;
    QString storedValue;
    std::function<void(Status)> answer;
    SecretsDialog dialog(
        {QStringLiteral("deploy_token"), QStringLiteral("api_key")}, {QStringLiteral("api_key")},
        [&](const QString &name, const QString &value, std::function<void(Status)> done) {
            storedName = name;
            storedValue = value;
            answer = std::move(done);
        });
    auto *list = dialog.findChild<QListWidget *>();
    auto *value = dialog.findChild<QLineEdit *>();
    QPushButton *store = nullptr;
    for (auto *button : dialog.findChildren<QPushButton *>()) {
        if (button->accessibleName() == QLatin1String("Store"))
            store = button;
    }
    QVERIFY(list && value && store);
    QCOMPARE(list->count(), 2);
    QVERIFY(list->item(0)->text().startsWith(QLatin1String("api_key")));
    QVERIFY(list->item(0)->text().contains(QLatin1String("stored in the keyring")));
    QVERIFY(list->item(1)->text().contains(QLatin1String("not in the keyring")));
    QCOMPARE(value->echoMode(), QLineEdit::Password);
    QVERIFY(!store->isEnabled()); // nothing typed yet

    list->setCurrentRow(1);
    QTest::keyClicks(value, QStringLiteral("s3cret-value"));
    QVERIFY(store->isEnabled());
    QTest::mouseClick(store, Qt::LeftButton);
    QCOMPARE(storedName, QStringLiteral("deploy_token"));
    QCOMPARE(storedValue, QStringLiteral("s3cret-value"));
    QVERIFY(answer);
    answer(Status::ok());
    QVERIFY(value->text().isEmpty());
    QVERIFY(list->item(1)->text().contains(QLatin1String("stored in the keyring")));
    for (auto *label : dialog.findChildren<QLabel *>())
        QVERIFY(!label->text().contains(QLatin1String("s3cret-value")));
}

QTEST_MAIN(TestSecretsDialog)
#include "tst_secretsdialog.moc"
