# The account pages people open from their mail (/account/…). Every word they show is here.
page-title = { $heading } · allomedia

verify-heading = Confirm your email address
verify-intro = Press the button to confirm that this address is yours. Nothing happens until you do.
verify-button = Confirm my address
verify-done-heading = Your address is confirmed
verify-done-body = Thank you. You can now sign in from the app.
verify-invalid-heading = This link no longer works
verify-invalid-body = This link was already used or has expired. If your address is already confirmed, just sign in.
verify-invalid-next = To get a new link, sign in from the app with your password: we send a new link to an address that is not confirmed yet.

reset-heading = Choose a new password
reset-intro = Type your new password twice. Every device signed in to your account will be signed out.
reset-rules = Between { $min } and { $max } characters, not a common or easily guessed password. A phrase of several unrelated words works well.
reset-new-password = New password
reset-new-password-again = New password, again
reset-button = Save my new password
reset-error-too-short = Too short: at least { $min } characters.
reset-error-too-long = Too long: at most { $max } characters.
reset-error-too-guessable = Too common or too easy to guess. Try a longer phrase of unrelated words.
reset-error-mismatch = The two passwords differ. Type the same password twice.
reset-done-heading = Your password is changed
reset-done-body = You can now sign in from the app with your new password. Your other devices were signed out.
reset-invalid-heading = This link no longer works
reset-invalid-body = This link was already used or has expired (a link works once, for a short time).
reset-invalid-next = To get a new link, choose "Forgot my password" in the app again.

link-broken-heading = This link is incomplete
link-broken-body = The link is missing its code or was cut. Open it again from your mail, or copy it whole into the address bar.
form-refused-heading = This form could not be read
form-refused-body = The page sent something unexpected. Open the link from your mail again.
fault-heading = Something went wrong on our side
fault-body = Nothing was changed. Please try again in a few minutes.
