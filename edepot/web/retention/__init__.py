"""The retention screens of the archivist's desk: records due, destruction lists under four eyes, holds, transfer."""
