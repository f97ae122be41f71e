"""The site side: approved mentions under each post, conversation feeds, what to send."""
