# Les mots que partagent pages et mails. Un fichier par sujet dans chaque dossier de langue
# (mail.ftl, problems.ftl, pages.ftl) ; chaque langue a les mêmes messages avec les mêmes
# paramètres, vérifié par les tests d'adapters::i18n.
service-name = allomedia
language-name = Français
