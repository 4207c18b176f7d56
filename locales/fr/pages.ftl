# Les pages de compte ouvertes depuis un mail (/account/…). Chaque mot qu'elles montrent est ici.
page-title = { $heading } · allomedia

verify-heading = Confirmez votre adresse e-mail
verify-intro = Appuyez sur le bouton pour confirmer que cette adresse est la vôtre. Rien ne se passe tant que vous n'avez pas appuyé.
verify-button = Confirmer mon adresse
verify-done-heading = Votre adresse est confirmée
verify-done-body = Merci. Vous pouvez maintenant vous connecter depuis l'application.
verify-invalid-heading = Ce lien ne fonctionne plus
verify-invalid-body = Ce lien a déjà été utilisé ou a expiré. Si votre adresse est déjà confirmée, connectez-vous simplement.
verify-invalid-next = Pour recevoir un nouveau lien, connectez-vous depuis l'application avec votre mot de passe : nous envoyons un nouveau lien à une adresse pas encore confirmée.

reset-heading = Choisissez un nouveau mot de passe
reset-intro = Saisissez deux fois votre nouveau mot de passe. Tous les appareils connectés à votre compte seront déconnectés.
reset-rules = Entre { $min } et { $max } caractères, pas un mot de passe courant ou facile à deviner. Une phrase de plusieurs mots sans rapport entre eux convient bien.
reset-new-password = Nouveau mot de passe
reset-new-password-again = Nouveau mot de passe, une seconde fois
reset-button = Enregistrer mon nouveau mot de passe
reset-error-too-short = Trop court : au moins { $min } caractères.
reset-error-too-long = Trop long : au plus { $max } caractères.
reset-error-too-guessable = Trop courant ou trop facile à deviner. Essayez une phrase plus longue de mots sans rapport entre eux.
reset-error-mismatch = Les deux mots de passe diffèrent. Saisissez deux fois le même.
reset-done-heading = Votre mot de passe est changé
reset-done-body = Vous pouvez maintenant vous connecter depuis l'application avec votre nouveau mot de passe. Vos autres appareils ont été déconnectés.
reset-invalid-heading = Ce lien ne fonctionne plus
reset-invalid-body = Ce lien a déjà été utilisé ou a expiré (un lien sert une fois, pendant peu de temps).
reset-invalid-next = Pour recevoir un nouveau lien, choisissez de nouveau « Mot de passe oublié » dans l'application.

link-broken-heading = Ce lien est incomplet
link-broken-body = Il manque le code du lien, ou il a été coupé. Ouvrez-le de nouveau depuis votre mail, ou copiez-le en entier dans la barre d'adresse.
form-refused-heading = Ce formulaire n'a pas pu être lu
form-refused-body = La page a envoyé quelque chose d'inattendu. Ouvrez de nouveau le lien de votre mail.
fault-heading = Un problème est survenu de notre côté
fault-body = Rien n'a été modifié. Réessayez dans quelques minutes.
