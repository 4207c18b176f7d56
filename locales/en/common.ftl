# Words every page and mail shares. One file per subject in each language folder
# (mail.ftl, problems.ftl, pages.ftl); every language has the same messages with the same
# placeholders, checked by adapters::i18n's tests.
service-name = allomedia
language-name = English
