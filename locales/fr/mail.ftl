# Les mots de chaque mail. Les paramètres sont remplis par src/adapters/mail/templates.rs ;
# liens, codes et jetons sont seuls sur leur ligne dans la partie texte, hors de ces phrases.
mail-greeting = Bonjour,
mail-greeting-named = Bonjour { $name },
mail-hours = { $count ->
    [one] { $count } heure
   *[other] { $count } heures
}
mail-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
mail-link-fallback = Si le lien ne s’ouvre pas, copiez cette adresse dans votre navigateur :
mail-amount = { $units },{ $cents } { $currency }
mail-date = { $day }/{ $month }/{ $year } à { $hour } h { $minute } (UTC)

mail-verify-subject = Confirmez votre adresse e-mail pour { service-name }
mail-verify-intro = Bienvenue sur { service-name }. Pour confirmer que cette adresse est bien la vôtre, ouvrez ce lien :
mail-verify-button = Confirmer mon adresse e-mail
mail-verify-validity = Le lien ne sert qu’une fois, pendant { $validity }. Passé ce délai, demandez-en un nouveau dans l’application.
mail-verify-ignore = Si vous n’avez pas créé de compte, ignorez ce message : sans confirmation, le compte reste inutilisable.

mail-attempt-subject = Quelqu’un a tenté de s’inscrire sur { service-name } avec votre adresse
mail-attempt-intro = Quelqu’un vient d’essayer de créer un compte { service-name } avec cette adresse e-mail. Vous avez déjà un compte : aucun nouveau compte n’a été créé et rien n’a changé sur le vôtre.
mail-attempt-if-you = Si c’était vous : inutile de créer un nouveau compte. Connectez-vous comme d’habitude ou, si vous avez oublié votre mot de passe, réinitialisez-le avec « Mot de passe oublié » dans l’application.
mail-attempt-if-not = Si ce n’était pas vous, vous pouvez ignorer ce message.

mail-code-subject = Votre code de connexion { service-name }
mail-code-intro = Votre code de connexion est :
mail-code-validity = Il ne sert qu’une fois, pendant { $validity }. Ne le communiquez à personne : { service-name } ne vous le demandera jamais.
mail-code-if-not = Si vous n’êtes pas en train de vous connecter, quelqu’un d’autre connaît votre mot de passe : changez-le.

mail-recovery-used-subject = Un code de secours a servi à se connecter à { service-name }
mail-recovery-used-intro = L’un de vos codes de secours vient de servir à vous connecter à votre compte { service-name }. Il ne fonctionnera plus.
mail-recovery-used-left = { $remaining ->
    [0] Il ne vous reste aucun code de secours : créez-en de nouveaux dans vos réglages de sécurité.
    [one] Il vous reste 1 code de secours.
   *[other] Il vous reste { $remaining } codes de secours.
}
mail-recovery-used-if-not = Si ce n’était pas vous, quelqu’un possède votre mot de passe et un code de secours : changez votre mot de passe, créez de nouveaux codes de secours et fermez toutes vos sessions dès maintenant.

mail-reset-subject = Réinitialisez votre mot de passe { service-name }
mail-reset-intro = Quelqu’un a demandé à réinitialiser le mot de passe de votre compte { service-name }. Pour choisir un nouveau mot de passe, ouvrez ce lien :
mail-reset-button = Choisir un nouveau mot de passe
mail-reset-validity = Le lien ne sert qu’une fois, pendant { $validity }. La réinitialisation ferme toutes vos sessions ; votre second facteur, si vous en avez configuré un, sera toujours demandé à la prochaine connexion.
mail-reset-ignore = Si vous n’avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.

mail-changed-subject = Votre mot de passe { service-name } a été modifié
mail-changed-intro = Le mot de passe de votre compte { service-name } vient d’être modifié, et vos autres sessions ont été fermées.
mail-changed-if-not = Si c’était vous, il n’y a rien à faire. Sinon, réinitialisez tout de suite votre mot de passe avec « Mot de passe oublié » dans l’application et vérifiez votre second facteur.

mail-totp-on-subject = Une application d’authentification a été activée sur votre compte { service-name }
mail-totp-on-intro = Une application d’authentification vient d’être activée comme second facteur de votre compte { service-name }. Désormais, la connexion demande un code de cette application ou un code de secours ; les codes par e-mail ne sont plus acceptés.
mail-totp-on-if-you = Si c’était vous, il n’y a rien à faire.
mail-totp-on-if-not = Si ce n’était PAS vous, quelqu’un possède votre mot de passe et une session. Choisissez un nouveau mot de passe avec ce jeton ; cela désactive l’application, ferme toutes les sessions et oublie tous les appareils mémorisés :
mail-totp-on-how = Envoyez le jeton et votre nouveau mot de passe (champs « token » et « new_password », en JSON) à POST { $endpoint }. Le jeton ne sert qu’une fois, pendant { $validity }.

mail-totp-off-subject = L’application d’authentification de votre compte { service-name } a été désactivée
mail-totp-off-intro = L’application d’authentification de votre compte { service-name } vient d’être désactivée, ainsi que ses codes de secours. La connexion demande désormais un code envoyé à cette adresse.
mail-totp-off-if-not = Si ce n’était pas vous, réinitialisez tout de suite votre mot de passe avec « Mot de passe oublié » dans l’application, puis réactivez l’application d’authentification.

mail-codes-new-subject = De nouveaux codes de secours ont été créés pour votre compte { service-name }
mail-codes-new-intro = De nouveaux codes de secours viennent d’être créés pour votre compte { service-name } ; les anciens ne fonctionnent plus.
mail-codes-new-if-not = Si ce n’était pas vous, quelqu’un possède votre mot de passe et une session : réinitialisez tout de suite votre mot de passe avec « Mot de passe oublié » dans l’application et fermez toutes vos sessions.

mail-receipt-subject = Votre commande { service-name } a été livrée
mail-receipt-intro = Votre commande { $order } a été livrée le { $date }. Voici votre reçu.
mail-receipt-line = { $quantity } × { $product } à { $unit_price } : { $line_total }
mail-receipt-total = Total : { $total }
mail-receipt-thanks = Merci d’avoir commandé chez { service-name }.
