# The words of every mail. Placeholders are filled by src/adapters/mail/templates.rs; links,
# codes and tokens stand on their own line in the text part, so they are not in these sentences.
mail-greeting = Hello,
mail-greeting-named = Hello { $name },
mail-hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}
mail-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
mail-link-fallback = If the link does not open, paste this address into your browser:
mail-amount = { $units }.{ $cents } { $currency }
mail-date = { $year }-{ $month }-{ $day } { $hour }:{ $minute } UTC

mail-verify-subject = Confirm your email address for { service-name }
mail-verify-intro = Welcome to { service-name }. To confirm that this address is yours, open this link:
mail-verify-button = Confirm my email address
mail-verify-validity = The link works once, for { $validity }. After that, ask for a new one in the app.
mail-verify-ignore = If you did not create an account, ignore this mail: without confirmation the account cannot be used.

mail-attempt-subject = Someone tried to register with your address at { service-name }
mail-attempt-intro = Someone just tried to create an { service-name } account with this email address. You already have an account, so no new one was made and nothing changed on yours.
mail-attempt-if-you = If it was you: you do not need a new account. Sign in as usual, or, if you forgot your password, reset it with "Forgot password" in the app.
mail-attempt-if-not = If it was not you, you can ignore this mail.

mail-code-subject = Your { service-name } sign-in code
mail-code-intro = Your sign-in code is:
mail-code-validity = It works once, for { $validity }. Never share it: { service-name } will never ask you for it.
mail-code-if-not = If you are not signing in right now, someone else knows your password: change it.

mail-recovery-used-subject = A recovery code was used to sign in to { service-name }
mail-recovery-used-intro = One of your recovery codes was just used to sign in to your { service-name } account. It will not work again.
mail-recovery-used-left = { $remaining ->
    [0] You have no recovery codes left: create new ones in your security settings.
    [one] You have 1 recovery code left.
   *[other] You have { $remaining } recovery codes left.
}
mail-recovery-used-if-not = If it was not you, someone has your password and a recovery code: change your password, create new recovery codes and sign out of every session now.

mail-reset-subject = Reset your { service-name } password
mail-reset-intro = Someone asked to reset the password of your { service-name } account. To choose a new password, open this link:
mail-reset-button = Choose a new password
mail-reset-validity = The link works once, for { $validity }. Resetting signs you out everywhere; your second factor, if you set one up, is still asked for at the next sign-in.
mail-reset-ignore = If you did not ask for this, ignore this mail: your password stays as it is.

mail-changed-subject = Your { service-name } password was changed
mail-changed-intro = The password of your { service-name } account was just changed, and your other sessions were signed out.
mail-changed-if-not = If it was you, there is nothing to do. If it was not, reset your password now with "Forgot password" in the app and check your second factor.

mail-totp-on-subject = An authenticator app was turned on for your { service-name } account
mail-totp-on-intro = An authenticator app was just turned on as the second factor of your { service-name } account. From now on signing in asks for a code from that app or a recovery code; codes by mail are no longer accepted.
mail-totp-on-if-you = If it was you, there is nothing to do.
mail-totp-on-if-not = If it was NOT you, someone has your password and a session. Choose a new password with this token; that turns the app off, signs out every session and forgets every remembered device:
mail-totp-on-how = Send the token and your new password (fields "token" and "new_password", in JSON) to POST { $endpoint }. The token works once, for { $validity }.

mail-totp-off-subject = The authenticator app of your { service-name } account was turned off
mail-totp-off-intro = The authenticator app of your { service-name } account was just turned off, and its recovery codes with it. Signing in now asks for a code sent to this address.
mail-totp-off-if-not = If it was not you, reset your password now with "Forgot password" in the app and turn the authenticator app on again.

mail-codes-new-subject = New recovery codes were made for your { service-name } account
mail-codes-new-intro = New recovery codes were just made for your { service-name } account; the old ones no longer work.
mail-codes-new-if-not = If it was not you, someone has your password and a session: reset your password now with "Forgot password" in the app and sign out everywhere.

mail-receipt-subject = Your { service-name } order was delivered
mail-receipt-intro = Your order { $order } was delivered on { $date }. Here is your receipt.
mail-receipt-line = { $quantity } × { $product } at { $unit_price }: { $line_total }
mail-receipt-total = Total: { $total }
mail-receipt-thanks = Thank you for ordering with { service-name }.
