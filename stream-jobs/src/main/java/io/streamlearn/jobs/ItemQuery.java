package io.streamlearn.jobs;

/**
 * One user after an interaction: the item just interacted with, and the user's most recent items
 * (at most the model's window, oldest first, this one last): the query the {@link ItemPredictor}
 * answers with the user's next items.
 */
public class ItemQuery {
    public String userId;
    public long eventTime;
    public String itemId;
    public String[] history;

    public ItemQuery() {}

    public ItemQuery(String userId, long eventTime, String itemId, String[] history) {
        this.userId = userId;
        this.eventTime = eventTime;
        this.itemId = itemId;
        this.history = history;
    }
}
