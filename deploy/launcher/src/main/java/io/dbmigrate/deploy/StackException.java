package io.dbmigrate.deploy;

/** A stack operation failed; the message names the component and says what to look at. */
public class StackException extends RuntimeException {
    public StackException(String message) {
        super(message);
    }

    public StackException(String message, Throwable cause) {
        super(message, cause);
    }
}
