"""Memory: threads and messages, working memory, semantic recall, knowledge."""
