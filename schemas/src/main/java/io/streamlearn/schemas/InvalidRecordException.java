package io.streamlearn.schemas;

/** A record that cannot be used; the message is the reason that goes to the dead-letter topic. */
public class InvalidRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidRecordException(String reason) {
        super(reason);
    }
}
